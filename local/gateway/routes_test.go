package gateway

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRouting: the most specific resource declaring the method wins; a
// resource without it hands the request to the next candidate, as measured
// on AWS (a literal segment, then {param}, then {proxy+}).
func TestRouting(t *testing.T) {
	tests := []struct {
		name     string
		call     call
		resource string // empty: 403
		params   map[string]string
	}{
		{"literal resource with the method", call{method: "PATCH", path: "/items/special", header: hdr("Content-Type", "application/json"), body: []byte(`{"op":"add"}`)}, "/items/special", nil},
		{"literal resource without the method falls back to {id}", call{method: "GET", path: "/items/special"}, "/items/{id}", map[string]string{"id": "special"}},
		{"{id} without the method: no other candidate", call{method: "PATCH", path: "/items/42", body: []byte(`{"op":"add"}`)}, "", nil},
		{"encoded slash stays in one segment, encoded", call{method: "GET", path: "/items/a%2Fb"}, "/items/{id}", map[string]string{"id": "a%2Fb"}},
		{"trailing slash", call{method: "GET", path: "/items/42/"}, "/items/{id}", map[string]string{"id": "42"}},
		{"greedy takes the rest", call{method: "GET", path: "/files/a/b/c.txt"}, "/files/{proxy+}", map[string]string{"proxy": "a/b/c.txt"}},
		{"explicit GET beside ANY", call{method: "GET", path: "/files/x"}, "/files/{proxy+}", map[string]string{"proxy": "x"}},
		{"ANY serves other methods", call{method: "DELETE", path: "/files/x", header: hdr("X-Tenant", "t"), body: []byte(`{"op":"remove"}`)}, "/files/{proxy+}", map[string]string{"proxy": "x"}},
		{"greedy parameter starting with an empty segment (AWS unverified)", call{method: "GET", path: "/files//x"}, "", nil},
		{"empty segment inside a greedy parameter", call{method: "GET", path: "/files/x//y"}, "/files/{proxy+}", map[string]string{"proxy": "x//y"}},
		{"deeper than any resource", call{method: "GET", path: "/items/1/2"}, "", nil},
		{"method case matters", call{method: "get", path: "/items/1"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fns := newFixtureFunctions()
			srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
			r := do(t, srv, tt.call)
			if tt.resource == "" {
				assert.Equal(t, 403, r.status)
				assert.Zero(t, fns.total())
				return
			}
			require.Equal(t, 200, r.status, string(r.body))
			var payload []byte
			for _, f := range []*fakeFunction{fns.items, fns.files} {
				if f.calls() > 0 {
					payload = f.lastPayload(t)
				}
			}
			var event events.APIGatewayProxyRequest
			require.NoError(t, json.Unmarshal(payload, &event))
			assert.Equal(t, tt.resource, event.Resource)
			assert.Equal(t, tt.resource, event.RequestContext.ResourcePath)
			assert.Equal(t, tt.params, event.PathParameters)
		})
	}
}
