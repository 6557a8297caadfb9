// Package ssm is the local stack's Systems Manager Parameter Store:
// PutParameter, GetParameter, GetParameters and DeleteParameter in the AWS
// JSON 1.1 protocol the SDKs speak (X-Amz-Target AmazonSSM.<action>), for
// String, StringList and SecureString parameters. The stack keeps an env's
// API key values here, as Terraform does on AWS.
//
// Not emulated: KMS (a SecureString is stored in clear in the stack's data
// directory, and read without WithDecryption it comes back as an opaque
// stand-in for the ciphertext, not as KMS ciphertext), parameter history,
// labels and version selectors (name:1), ARNs as names, policies, the
// Advanced tier (values over 4 KB), paths (GetParametersByPath), tags,
// AllowedPattern and DataType (accepted and ignored).
package ssm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/acme/request-dump/internal/atomicfile"
	"github.com/acme/request-dump/local/internal/awsjson"
	"github.com/acme/request-dump/local/internal/requestid"
)

// TargetPrefix starts the X-Amz-Target of every SSM call.
const TargetPrefix = "AmazonSSM."

// The parameter types.
const (
	String       = "String"
	StringList   = "StringList"
	SecureString = "SecureString"
)

// Parameter is a stored parameter.
type Parameter struct {
	Name             string    `json:"name"`
	Type             string    `json:"type"`
	Value            string    `json:"value"`
	Version          int64     `json:"version"`
	LastModifiedDate time.Time `json:"last_modified_date"`
}

// Store holds the parameters of one region and account; with a file it
// keeps them across restarts.
type Store struct {
	region, account string
	file            string
	// sealKey makes the stand-in ciphertext of a SecureString read without
	// decryption: opaque, and not the value.
	sealKey []byte

	mu     sync.RWMutex
	params map[string]Parameter
}

// NewStore returns a store for region and account, kept in file ("" keeps
// it in memory), loading what the file holds.
func NewStore(region, account, file string) (*Store, error) {
	s := &Store{region: region, account: account, file: file, params: map[string]Parameter{}, sealKey: make([]byte, 32)}
	_, _ = rand.Read(s.sealKey) // crypto/rand.Read never fails
	if file == "" {
		return s, nil
	}
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("ssm: %w", err)
	}
	var saved map[string]Parameter
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("ssm: %s is not the parameter store's file (%v): move it away to start empty", file, err)
	}
	for _, p := range saved {
		// A file written before root names were keyed without their slash
		// may hold both spellings of one: the later write wins, as it did
		// for the reader that asked for it.
		if old, ok := s.params[key(p.Name)]; !ok || p.LastModifiedDate.After(old.LastModifiedDate) {
			s.params[key(p.Name)] = p
		}
	}
	return s, nil
}

// key is the store's key for a name. A root parameter is one parameter with
// or without its leading slash: the user guide's name constraints give
// "/TestParam1" and "TestParam1" as names that are not unique
// (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html).
func key(name string) string {
	if rest, ok := strings.CutPrefix(name, "/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return name
}

// trimName removes the spaces around a name, as Parameter Store does
// before it reads the name (the API reference of PutParameter, GetParameter
// and GetParameters); spaces inside it are refused by the name checks.
func trimName(name string) string { return strings.Trim(name, " ") }

// Put stores a parameter: a new one at version 1, an existing one (with
// overwrite) at the next version.
func (s *Store) Put(name, typ, value string, overwrite bool) (int64, error) {
	name = trimName(name)
	if err := validName(name); err != nil {
		return 0, err
	}
	if value == "" {
		return 0, validation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(value) > maxValue {
		return 0, validation(fmt.Sprintf("Standard tier parameters support a value of at most %d characters; this one has %d: shorten it (the local store keeps no Advanced tier)", maxValue, len(value)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(name)
	old, exists := s.params[k]
	switch {
	case exists && !overwrite:
		// AWS's wording, as Terraform quotes it (aws-ia/terraform-aws-control_tower_account_factory#166).
		return 0, &awsjson.Error{Type: "ParameterAlreadyExists", Message: "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.", Status: http.StatusBadRequest}
	case typ == "" && !exists:
		return 0, validation("A parameter type is required when you create a parameter.")
	case typ == "":
		typ = old.Type
	case typ != String && typ != StringList && typ != SecureString:
		return 0, validation(fmt.Sprintf("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", typ))
	}
	if exists {
		// The name keeps the spelling it was created with.
		name = old.Name
	}
	p := Parameter{Name: name, Type: typ, Value: value, Version: old.Version + 1, LastModifiedDate: time.Now().UTC().Truncate(time.Millisecond)}
	s.params[k] = p
	if err := s.save(); err != nil {
		if exists {
			s.params[k] = old
		} else {
			delete(s.params, k)
		}
		return 0, err
	}
	return p.Version, nil
}

// Get returns a parameter.
func (s *Store) Get(name string) (Parameter, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.params[key(trimName(name))]
	return p, ok
}

// Delete removes a parameter, reporting whether it was there.
func (s *Store) Delete(name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(trimName(name))
	old, ok := s.params[k]
	if !ok {
		return false, nil
	}
	delete(s.params, k)
	if err := s.save(); err != nil {
		s.params[k] = old
		return false, err
	}
	return true, nil
}

func (s *Store) save() error {
	if s.file == "" {
		return nil
	}
	data, err := json.Marshal(s.params)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.file), 0o700); err != nil {
		return fmt.Errorf("ssm: %w", err)
	}
	// Readable by its owner only: SecureString values are in it.
	if err := atomicfile.Write(s.file, data, 0o600, ""); err != nil {
		return fmt.Errorf("ssm: %w", err)
	}
	return nil
}

// maxBody is the largest request body read; no valid request comes near it.
const maxBody = 1 << 20

// maxValue is the longest value of a Standard-tier parameter, the only
// tier the store keeps.
const maxValue = 4096

// maxDepth is the deepest hierarchy Parameter Store takes.
const maxDepth = 15

// validName checks a name PutParameter is to create.
func validName(name string) error {
	if err := validReadName(name); err != nil {
		return err
	}
	if strings.Contains(name, "//") || strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "aws") || strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "ssm") {
		return validation(fmt.Sprintf("Parameter name %q: use letters, digits and .-_/ (a hierarchy starts with /), up to 2048 characters, not starting with aws or ssm", name))
	}
	if depth := strings.Count(name, "/"); depth > maxDepth {
		return &awsjson.Error{Type: "HierarchyLevelLimitExceededException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("A hierarchy can have a maximum of 15 levels: parameter name %q is %d levels deep", name, depth)}
	}
	return nil
}

// validReadName checks a name GetParameter reads: AWS refuses a name no
// parameter can have (a hierarchy without its leading slash, a character
// outside a-zA-Z0-9_.-/) with ValidationException, not ParameterNotFound
// (localstack/localstack#11538 and aws/aws-sdk-js-v3#5005 quote AWS's
// answer to GetParameter of "test/some-config"). Names under /aws/ are
// read: public parameters live there.
func validReadName(name string) error {
	if err := requiredName("name", name); err != nil {
		return err
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/", c)) {
			return validation(fmt.Sprintf("Parameter name %q: use letters, digits and .-_/ (a hierarchy starts with /)", name))
		}
	}
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		return validation(fmt.Sprintf("Parameter name %q must be a fully qualified name: a name in a hierarchy starts with /, e.g. /%s", name, name))
	}
	return nil
}

// requiredName refuses a missing or over-long name in the field given, as
// AWS's input validation does before it looks the parameter up.
func requiredName(field, name string) error {
	switch {
	case name == "":
		return validation(fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field))
	case len(name) > 2048:
		return validation(fmt.Sprintf("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 2048", field))
	}
	return nil
}

func validation(msg string) error {
	return &awsjson.Error{Type: "ValidationException", Message: msg, Status: http.StatusBadRequest}
}

// ServeHTTP serves the JSON 1.1 API.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || r.Method != http.MethodPost {
		s.writeError(w, &awsjson.Error{Type: "SerializationException", Message: "SSM takes a POST with a JSON body", Status: http.StatusBadRequest})
		return
	}
	if len(body) > maxBody {
		// Cut short, the body would only fail as JSON that ends early.
		s.writeError(w, validation(fmt.Sprintf("the request body is over %d bytes: a parameter value is at most %d characters", maxBody, maxValue)))
		return
	}
	var out any
	switch action {
	case "PutParameter":
		out, err = s.putParameter(body)
	case "GetParameter":
		out, err = s.getParameter(body)
	case "GetParameters":
		out, err = s.getParameters(body)
	case "DeleteParameter":
		out, err = s.deleteParameter(body)
	default:
		err = &awsjson.Error{Type: "UnknownOperationException", Message: fmt.Sprintf("the local Parameter Store serves PutParameter, GetParameter, GetParameters and DeleteParameter, not %q", action), Status: http.StatusBadRequest}
	}
	if err != nil {
		s.writeError(w, err)
		return
	}
	data, _ := json.Marshal(out)
	w.Header().Set("Content-Type", awsjson.ContentType)
	w.Header().Set("x-amzn-RequestId", requestid.New())
	_, _ = w.Write(data)
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &awsjson.Error{Type: "SerializationException", Message: err.Error(), Status: http.StatusBadRequest}
	}
	return nil
}

func (s *Store) putParameter(body []byte) (any, error) {
	var in struct {
		Name, Type, Value string
		Overwrite         bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	v, err := s.Put(in.Name, in.Type, in.Value, in.Overwrite)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Version": v, "Tier": "Standard"}, nil
}

// parameterJSON is a parameter as GetParameter answers it.
type parameterJSON struct {
	ARN              string
	DataType         string
	LastModifiedDate float64
	Name             string
	Type             string
	Value            string
	Version          int64
}

func (s *Store) view(p Parameter, decrypt bool) parameterJSON {
	value := p.Value
	if p.Type == SecureString && !decrypt {
		mac := hmac.New(sha256.New, s.sealKey)
		mac.Write([]byte(p.Name + "\x00" + p.Value))
		value = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return parameterJSON{
		ARN:              "arn:aws:ssm:" + s.region + ":" + s.account + ":parameter/" + strings.TrimPrefix(p.Name, "/"),
		DataType:         "text",
		LastModifiedDate: float64(p.LastModifiedDate.UnixMilli()) / 1000,
		Name:             p.Name, Type: p.Type, Value: value, Version: p.Version,
	}
}

func (s *Store) getParameter(body []byte) (any, error) {
	var in struct {
		Name           string
		WithDecryption bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	in.Name = trimName(in.Name)
	if err := validReadName(in.Name); err != nil {
		return nil, err
	}
	p, ok := s.Get(in.Name)
	if !ok {
		return nil, &awsjson.Error{Type: "ParameterNotFound", Message: fmt.Sprintf("Parameter %s not found.", in.Name), Status: http.StatusBadRequest}
	}
	return map[string]any{"Parameter": s.view(p, in.WithDecryption)}, nil
}

// maxNames is the most names one GetParameters call takes.
const maxNames = 10

func (s *Store) getParameters(body []byte) (any, error) {
	var in struct {
		Names          []string
		WithDecryption bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if n := len(in.Names); n < 1 || n > maxNames {
		fix := "name at least one parameter"
		if n > maxNames {
			fix = "ask for the others in another call"
		}
		return nil, validation(fmt.Sprintf("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and %d (got %d names): %s", maxNames, n, fix))
	}
	for i, name := range in.Names {
		if err := requiredName(fmt.Sprintf("names.%d.member", i+1), name); err != nil {
			return nil, err
		}
		if strings.Contains(trimName(name), " ") {
			return nil, validation(fmt.Sprintf("Parameter name %q: a name cannot contain spaces", trimName(name)))
		}
	}
	found, invalid := []parameterJSON{}, []string{}
	for _, name := range in.Names {
		if p, ok := s.Get(name); ok {
			found = append(found, s.view(p, in.WithDecryption))
		} else {
			invalid = append(invalid, trimName(name))
		}
	}
	// "The results for GetParameters requests are listed in alphabetical
	// order" (the API reference of GetParameters).
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	sort.Strings(invalid)
	return map[string]any{"Parameters": found, "InvalidParameters": invalid}, nil
}

func (s *Store) deleteParameter(body []byte) (any, error) {
	var in struct{ Name string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := requiredName("name", in.Name); err != nil {
		return nil, err
	}
	ok, err := s.Delete(in.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &awsjson.Error{Type: "ParameterNotFound", Message: fmt.Sprintf("Parameter %s not found.", in.Name), Status: http.StatusBadRequest}
	}
	return map[string]any{}, nil
}

func (s *Store) writeError(w http.ResponseWriter, err error) {
	var e *awsjson.Error
	if !errors.As(err, &e) {
		e = &awsjson.Error{Type: "InternalServerError", Message: err.Error(), Status: http.StatusInternalServerError}
	}
	w.Header().Set("x-amzn-RequestId", requestid.New())
	awsjson.WriteError(w, e)
}
