package versions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/acme/request-dump/local/internal/requestid"
	"github.com/acme/request-dump/local/lambda"
)

// PathPrefix starts every path of Lambda's REST API that Service serves.
const PathPrefix = "/2015-03-31/functions/"

// ServeHTTP serves Lambda's REST API (restJson1) for versions, aliases and
// invocations:
//
//	POST   /2015-03-31/functions/{FunctionName}/versions            PublishVersion
//	GET    /2015-03-31/functions/{FunctionName}/versions            ListVersionsByFunction
//	GET    /2015-03-31/functions/{FunctionName}/configuration       GetFunctionConfiguration
//	POST   /2015-03-31/functions/{FunctionName}/aliases             CreateAlias
//	GET    /2015-03-31/functions/{FunctionName}/aliases             ListAliases
//	GET    /2015-03-31/functions/{FunctionName}/aliases/{Name}      GetAlias
//	PUT    /2015-03-31/functions/{FunctionName}/aliases/{Name}      UpdateAlias
//	DELETE /2015-03-31/functions/{FunctionName}/aliases/{Name}      DeleteAlias
//	POST   /2015-03-31/functions/{FunctionName}/invocations         Invoke
//
// FunctionName is a name, a partial ARN or an ARN, qualified where Lambda
// allows it (name:qualifier for Invoke and GetFunctionConfiguration).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", requestid.New())
	segs, err := pathSegments(r.URL)
	if err != nil || len(segs) < 1 {
		writeError(w, &Error{Status: 404, Type: "ResourceNotFoundException", Message: "the path names no function: " + r.URL.Path})
		return
	}
	name, qualifier, err := s.parseFunctionName(segs[0])
	if err != nil {
		writeError(w, err)
		return
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		if qualifier != "" && qualifier != q {
			writeError(w, errParameter(fmt.Sprintf("The derived qualifier from the function name (%s) does not match the specified qualifier (%s).", qualifier, q)))
			return
		}
		qualifier = q
	}
	op := strings.Join(append([]string{r.Method}, segs[1:min(len(segs), 2)]...), " ")
	if len(segs) == 3 && segs[1] == "aliases" {
		op = r.Method + " aliases/{Name}"
	}
	if qualifier != "" && op != "POST invocations" && op != "GET configuration" {
		writeError(w, errParameter("This operation takes an unqualified function name; got qualifier "+qualifier))
		return
	}
	switch op {
	case "POST versions":
		var in struct{ CodeSha256, Description, RevisionId string }
		if !decode(w, r, &in) {
			return
		}
		s.mu.Lock()
		c, err := s.publish(name, in.Description, in.CodeSha256, in.RevisionId)
		s.mu.Unlock()
		respond(w, http.StatusCreated, c, err)
	case "GET versions":
		vs, err := s.Versions(name)
		if err != nil {
			writeError(w, err)
			return
		}
		page, next, err := paginate(r, len(vs))
		if err != nil {
			writeError(w, err)
			return
		}
		respond(w, http.StatusOK, struct {
			Versions   []FunctionConfiguration
			NextMarker string `json:",omitempty"`
		}{vs[page[0]:page[1]], next}, nil)
	case "GET configuration":
		c, err := s.Configuration(name, qualifier)
		respond(w, http.StatusOK, c, err)
	case "POST aliases":
		var in struct {
			Name, FunctionVersion, Description string
			RoutingConfig                      *RoutingConfig
		}
		if !decode(w, r, &in) {
			return
		}
		var weights map[string]float64
		if in.RoutingConfig != nil {
			weights = in.RoutingConfig.AdditionalVersionWeights
		}
		c, err := s.CreateAlias(name, in.Name, in.FunctionVersion, in.Description, weights)
		respond(w, http.StatusCreated, c, err)
	case "GET aliases":
		as, err := s.ListAliases(name, r.URL.Query().Get("FunctionVersion"))
		if err != nil {
			writeError(w, err)
			return
		}
		page, next, err := paginate(r, len(as))
		if err != nil {
			writeError(w, err)
			return
		}
		respond(w, http.StatusOK, struct {
			Aliases    []AliasConfiguration
			NextMarker string `json:",omitempty"`
		}{as[page[0]:page[1]], next}, nil)
	case "GET aliases/{Name}":
		c, err := s.GetAlias(name, segs[2])
		respond(w, http.StatusOK, c, err)
	case "PUT aliases/{Name}":
		var in struct {
			FunctionVersion, Description *string
			RoutingConfig                *RoutingConfig
			RevisionId                   string
		}
		if !decode(w, r, &in) {
			return
		}
		u := AliasUpdate{FunctionVersion: in.FunctionVersion, Description: in.Description, RevisionID: in.RevisionId}
		if in.RoutingConfig != nil {
			u.Weights = in.RoutingConfig.AdditionalVersionWeights
			if u.Weights == nil {
				u.Weights = map[string]float64{}
			}
		}
		c, err := s.UpdateAlias(name, segs[2], u)
		respond(w, http.StatusOK, c, err)
	case "DELETE aliases/{Name}":
		if err := s.DeleteAlias(name, segs[2]); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "POST invocations":
		s.serveInvoke(w, r, name, qualifier)
	default:
		writeError(w, &Error{Status: http.StatusNotImplemented, Type: "NotImplemented",
			Message: fmt.Sprintf("%s %s is not served by the local Lambda API, which serves versions, aliases, GetFunctionConfiguration and Invoke (go doc ./local/lambda/versions)", r.Method, r.URL.Path)})
	}
}

func (s *Service) serveInvoke(w http.ResponseWriter, r *http.Request, name, qualifier string) {
	switch t := r.Header.Get("X-Amz-Invocation-Type"); t {
	case "", "RequestResponse":
	case "DryRun":
		s.mu.Lock()
		f, err := s.function(name)
		if err == nil {
			_, err = s.resolve(f, qualifier, false)
		}
		s.mu.Unlock()
		if err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeError(w, errParameter(fmt.Sprintf("invocation type %q: the local Lambda runs RequestResponse and DryRun invocations only", t)))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, lambda.MaxRequestBytes+1))
	if err != nil {
		return
	}
	// Lambda parses the payload before it invokes: a body that is not JSON
	// is the caller's error, not the function's. One over the size limit is
	// left to Invoke, which answers 413 as Lambda does.
	if len(payload) > 0 && len(payload) <= lambda.MaxRequestBytes && !json.Valid(payload) {
		writeError(w, &Error{Status: http.StatusBadRequest, Type: "InvalidRequestContentException",
			Message: "Could not parse request body into json: the payload is not a JSON document; send JSON, e.g. {} or \"text\""})
		return
	}
	// A caller hanging up does not stop a Lambda invocation.
	res, err := s.Invoke(context.WithoutCancel(r.Context()), name, qualifier, "", payload)
	if err != nil {
		var se *lambda.ServiceError
		if errors.As(err, &se) {
			writeError(w, &Error{Status: se.StatusCode, Type: se.Type, Message: se.Message})
			return
		}
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", res.ExecutedVersion)
	if res.FunctionError != "" {
		w.Header().Set("X-Amz-Function-Error", res.FunctionError)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}

// pathSegments splits the path after PathPrefix into its segments,
// unescaped one by one (an ARN's ':' and $LATEST's '$' arrive escaped).
func pathSegments(u *url.URL) ([]string, error) {
	rest, ok := strings.CutPrefix(u.EscapedPath(), PathPrefix)
	if !ok {
		return nil, fmt.Errorf("not under %s", PathPrefix)
	}
	var segs []string
	for _, seg := range strings.Split(strings.TrimSuffix(rest, "/"), "/") {
		v, err := url.PathUnescape(seg)
		if err != nil || v == "" {
			return nil, fmt.Errorf("bad segment %q", seg)
		}
		segs = append(segs, v)
	}
	return segs, nil
}

var functionNameRE = regexp.MustCompile(`^(?:arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9_-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)

// parseFunctionName reads a function name, partial ARN or ARN and its
// qualifier, checking that an ARN names this region and account.
func (s *Service) parseFunctionName(raw string) (name, qualifier string, err error) {
	m := functionNameRE.FindStringSubmatch(raw)
	if m == nil {
		return "", "", errValidation(raw, "functionName", `Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`)
	}
	if (m[1] != "" && m[1] != s.region) || (m[2] != "" && m[2] != s.account) {
		return "", "", errNotFound("Function not found: " + raw)
	}
	return m[3], m[4], nil
}

func paginate(r *http.Request, n int) (page [2]int, next string, err error) {
	q := r.URL.Query()
	start, limit := 0, 50
	if m := q.Get("Marker"); m != "" {
		if start, err = strconv.Atoi(m); err != nil || start < 0 || start > n {
			return page, "", errParameter("Marker " + strconv.Quote(m) + " is not one this API returned")
		}
	}
	if v := q.Get("MaxItems"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
			return page, "", errValidation(v, "maxItems", "Member must have value between 1 and 10000")
		}
	}
	end := min(n, start+limit)
	if end < n {
		next = strconv.Itoa(end)
	}
	return [2]int{start, end}, next, nil
}

// maxControlBody is the largest body a control-plane call (PublishVersion,
// CreateAlias, UpdateAlias) may have; a valid one is a few hundred bytes.
const maxControlBody = 1 << 20

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err == nil && len(body) > maxControlBody {
		// Cut short, the body would only fail as JSON that ends early.
		writeError(w, &Error{Status: http.StatusRequestEntityTooLarge, Type: "RequestEntityTooLargeException",
			Message: fmt.Sprintf("the request body is over %d bytes, far beyond what this operation takes", maxControlBody)})
		return false
	}
	if err == nil && len(strings.TrimSpace(string(body))) > 0 {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeError(w, &Error{Status: 400, Type: "InvalidRequestContentException", Message: "Could not parse request body into json: " + err.Error()})
		return false
	}
	return true
}

func respond(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers as Lambda does: the exception's name in
// X-Amzn-ErrorType and {"Type":"User","Message":…} in the body.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: 500, Type: "ServiceException", Message: err.Error()}
	}
	kind := "User"
	if e.Status >= 500 {
		kind = "Service"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": kind, "Message": e.Message})
}
