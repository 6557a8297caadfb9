package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// validateBody checks a request body against its model. It returns "" when
// the body is valid, else $context.error.validationErrorString. An empty
// body is checked as {} (what LocalStack, whose API Gateway is built from
// AWS snapshots, does too).
func validateBody(schema *openapi3.Schema, body []byte) string {
	var v any = map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return "[request body is not JSON: " + err.Error() + "]"
		}
		if _, err := dec.Token(); err != io.EOF {
			return "[request body is not JSON: data after the top-level value]"
		}
	}
	err := schema.VisitJSON(v, openapi3.MultiErrors())
	if err == nil {
		return ""
	}
	return draft4Messages(err)
}

// draft4Messages renders kin-openapi's validation errors as the messages of
// the JSON Schema draft-4 validator API Gateway runs (java-json-tools
// json-schema-validator), in its order (a value's own errors before those
// of its members) and formatted as a Java list: "[first, second]". Written
// here because no Go validator reports in that wording.
func draft4Messages(err error) string {
	var found []*openapi3.SchemaError
	var other []string
	var walk func(error)
	walk = func(err error) {
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		switch {
		case errors.As(err, &me):
			for _, e := range me {
				walk(e)
			}
		case errors.As(err, &se):
			found = append(found, se)
		default:
			other = append(other, err.Error())
		}
	}
	walk(err)

	type entry struct {
		pointer []string
		rank    int
		msg     string
	}
	var entries []entry
	// required and additionalProperties errors come one per property from
	// kin-openapi; the draft-4 validator reports one per object.
	grouped := map[string]int{}
	for _, se := range found {
		ptr := se.JSONPointer()
		field := se.SchemaField
		if field == "required" && len(ptr) > 0 {
			ptr = ptr[:len(ptr)-1]
		}
		if field == "required" || field == "properties" {
			key := field + "\x00" + strings.Join(ptr, "\x00")
			if _, ok := grouped[key]; ok {
				continue
			}
			grouped[key] = len(entries)
		}
		if field == "exclusiveMinimum" && belowMinimum(se) || field == "exclusiveMaximum" && aboveMaximum(se) {
			continue // the minimum or maximum error says it
		}
		entries = append(entries, entry{pointer: ptr, rank: keywordRank(field), msg: draft4Message(se)})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if c := slices.Compare(entries[i].pointer, entries[j].pointer); c != 0 {
			return c < 0
		}
		return entries[i].rank < entries[j].rank
	})
	msgs := make([]string, 0, len(entries)+len(other))
	for _, e := range entries {
		msgs = append(msgs, e.msg)
	}
	msgs = append(msgs, other...)
	return "[" + strings.Join(msgs, ", ") + "]"
}

func keywordRank(field string) int {
	switch field {
	case "type", "nullable":
		return 0
	case "enum":
		return 1
	case "required":
		return 2
	case "properties":
		return 3
	}
	return 4
}

// draft4Message words one of kin-openapi's schema errors as the draft-4
// validator AWS runs (java-json-tools) words it.
func draft4Message(se *openapi3.SchemaError) string {
	s, v := se.Schema, se.Value
	switch se.SchemaField {
	case "type", "nullable":
		found := jsonType(v)
		allowed := []string{}
		if s.Type != nil {
			allowed = append(allowed, *s.Type...)
		}
		if se.SchemaField == "type" && found == "number" && slices.Contains(allowed, "integer") && !slices.Contains(allowed, "number") {
			// A fraction where an integer is required.
			allowed = []string{"integer"}
		}
		if slices.Contains(allowed, "number") && !slices.Contains(allowed, "integer") {
			allowed = append(allowed, "integer") // draft 4: an integer is a number
		}
		sort.Strings(allowed)
		return fmt.Sprintf("instance type (%s) does not match any allowed primitive type (allowed: %s)", found, compactJSON(allowed))
	case "enum":
		return fmt.Sprintf("instance value (%s) not found in enum (possible values: %s)", compactJSON(v), compactJSON(s.Enum))
	case "required":
		obj, _ := v.(map[string]any)
		var missing []string
		for _, k := range s.Required {
			if _, ok := obj[k]; !ok {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		return fmt.Sprintf("object has missing required properties (%s)", compactJSON(missing))
	case "properties":
		obj, _ := v.(map[string]any)
		var extra []string
		for k := range obj {
			if _, ok := s.Properties[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return fmt.Sprintf("object instance has properties which are not allowed by the schema: %s", compactJSON(extra))
	case "minimum":
		return fmt.Sprintf("numeric instance is lower than the required minimum (minimum: %s, found: %s)", number(*s.Min), numberValue(v))
	case "maximum":
		return fmt.Sprintf("numeric instance is greater than the required maximum (maximum: %s, found: %s)", number(*s.Max), numberValue(v))
	case "exclusiveMinimum":
		return fmt.Sprintf("numeric instance is not strictly greater than the required minimum %s", bound(s.ExclusiveMin, s.Min))
	case "exclusiveMaximum":
		return fmt.Sprintf("numeric instance is not strictly lower than the required maximum %s", bound(s.ExclusiveMax, s.Max))
	case "multipleOf":
		return fmt.Sprintf("remainder of division is not zero (%s / %s)", numberValue(v), number(*s.MultipleOf))
	case "minLength":
		str, _ := v.(string)
		return fmt.Sprintf("string \"%s\" is too short (length: %d, required minimum: %d)", str, utf8.RuneCountInString(str), s.MinLength)
	case "maxLength":
		str, _ := v.(string)
		return fmt.Sprintf("string \"%s\" is too long (length: %d, maximum allowed: %d)", str, utf8.RuneCountInString(str), *s.MaxLength)
	case "pattern":
		str, _ := v.(string)
		return fmt.Sprintf("ECMA 262 regex \"%s\" does not match input string \"%s\"", s.Pattern, str)
	case "format":
		str, _ := v.(string)
		return fmt.Sprintf("string \"%s\" is invalid against requested format \"%s\"", str, s.Format)
	case "minItems":
		arr, _ := v.([]any)
		return fmt.Sprintf("array is too short: must have at least %d elements but instance has %d elements", s.MinItems, len(arr))
	case "maxItems":
		arr, _ := v.([]any)
		return fmt.Sprintf("array is too long: must have at most %d elements but instance has %d elements", *s.MaxItems, len(arr))
	case "uniqueItems":
		return "array must not contain duplicate elements"
	case "minProperties":
		obj, _ := v.(map[string]any)
		return fmt.Sprintf("object has too few properties (found %d but schema requires at least %d)", len(obj), s.MinProps)
	case "maxProperties":
		obj, _ := v.(map[string]any)
		return fmt.Sprintf("object has too many properties (found %d but schema requires at most %d)", len(obj), *s.MaxProps)
	case "oneOf":
		return fmt.Sprintf("instance failed to match exactly one schema (matched %d out of %d)", matching(s.OneOf, v), len(s.OneOf))
	case "anyOf":
		return fmt.Sprintf("instance failed to match at least one required schema among %d", len(s.AnyOf))
	case "allOf":
		return fmt.Sprintf("instance failed to match all required schemas (matched only %d out of %d)", matching(s.AllOf, v), len(s.AllOf))
	case "not":
		return "instance matched a schema which it should not have"
	}
	if se.Reason != "" {
		return se.Reason
	}
	return "instance failed to match the schema keyword " + se.SchemaField
}

// jsonType names a JSON value's type as the draft-4 validator does.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "number"
		}
		return "integer"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func matching(refs openapi3.SchemaRefs, v any) int {
	n := 0
	for _, r := range refs {
		if r.Value != nil && r.Value.IsMatching(v) {
			n++
		}
	}
	return n
}

func belowMinimum(se *openapi3.SchemaError) bool {
	f, ok := numberOf(se.Value)
	return ok && se.Schema.Min != nil && f < *se.Schema.Min
}

func aboveMaximum(se *openapi3.SchemaError) bool {
	f, ok := numberOf(se.Value)
	return ok && se.Schema.Max != nil && f > *se.Schema.Max
}

func numberOf(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

func bound(b openapi3.ExclusiveBound, inclusive *float64) string {
	if b.Value != nil {
		return number(*b.Value)
	}
	if inclusive != nil {
		return number(*inclusive)
	}
	return "?"
}

func number(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func numberValue(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case float64:
		return number(v)
	}
	return fmt.Sprint(v)
}

func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
