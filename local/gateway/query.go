package gateway

import (
	"net/url"
	"strings"
)

// parseQuery reads a request's query string as API Gateway does: pairs
// separated by & or ;, each name and value with + read as a space and %XX
// decoded. AWS documents the second separator among the REST API notes
// ("The semicolon character (;) is not supported for any request URL query
// string and results in the data being split"). Written by hand because
// url.ParseQuery splits on & only and, since Go 1.17, leaves out a whole
// pair that holds a ;, so the function would see nothing of it.
//
// A pair with a malformed escape (%zz) is left out, as url.ParseQuery does;
// what AWS passes for one is not known.
func parseQuery(raw string) url.Values {
	q := url.Values{}
	for raw != "" {
		var pair string
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			pair, raw = raw[:i], raw[i+1:]
		} else {
			pair, raw = raw, ""
		}
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, errName := url.QueryUnescape(name)
		value, errValue := url.QueryUnescape(value)
		if errName != nil || errValue != nil {
			continue
		}
		q[name] = append(q[name], value)
	}
	return q
}
