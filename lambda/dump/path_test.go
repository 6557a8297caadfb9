package dump

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePath(t *testing.T) {
	key := func(k string) step { return step{key: k} }
	idx := func(i int) step { return step{index: i, isIndex: true} }
	tests := []struct {
		text      string
		src       source
		name      string
		steps     []step
		fields    int // struct fields resolved in requestContext
		dynamic   int // steps into the authorizer map
		wantAlias string
	}{
		{text: "body", src: srcBody, wantAlias: "body"},
		{text: "body.event_id", src: srcBody, steps: []step{key("event_id")}, wantAlias: "event_id"},
		{text: "body.a.b[0]", src: srcBody, steps: []step{key("a"), key("b"), idx(0)}, wantAlias: "b"},
		{text: "body[2][10].x y", src: srcBody, steps: []step{idx(2), idx(10), key("x y")}, wantAlias: "x y"},
		{text: "body.0", src: srcBody, steps: []step{key("0")}, wantAlias: "0"},
		{text: "headers", src: srcHeaders, wantAlias: "headers"},
		{text: "headers.X-Forwarded-For", src: srcHeaders, name: "X-Forwarded-For", wantAlias: "X-Forwarded-For"},
		{text: "headers.x.y", src: srcHeaders, name: "x.y", wantAlias: "x.y"},
		{text: "queryStringParameters.ids[]", src: srcQuery, name: "ids[]", wantAlias: "ids[]"},
		{text: "pathParameters.proxy", src: srcPathParams, name: "proxy", wantAlias: "proxy"},
		{text: "stageVariables.env", src: srcStageVars, name: "env", wantAlias: "env"},
		{text: "requestContext.requestId", src: srcContext, steps: []step{key("requestId")}, fields: 1, wantAlias: "requestId"},
		{text: "requestContext.identity.sourceIp", src: srcContext, steps: []step{key("identity"), key("sourceIp")}, fields: 2, wantAlias: "sourceIp"},
		{text: "requestContext.identity.clientCert.validity.notBefore", src: srcContext,
			steps: []step{key("identity"), key("clientCert"), key("validity"), key("notBefore")}, fields: 4, wantAlias: "notBefore"},
		{text: "requestContext.authorizer.claims.groups[0]", src: srcContext,
			steps: []step{key("authorizer"), key("claims"), key("groups"), idx(0)}, fields: 1, dynamic: 3, wantAlias: "groups"},
		{text: "httpMethod", src: srcMethod, wantAlias: "httpMethod"},
		{text: "path", src: srcPath, wantAlias: "path"},
		{text: "resource", src: srcResource, wantAlias: "resource"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			p, err := ParsePath(tt.text)
			require.NoError(t, err)
			assert.Equal(t, tt.text, p.String())
			assert.Equal(t, tt.src, p.src)
			assert.Equal(t, tt.name, p.name)
			assert.Equal(t, tt.steps, p.steps)
			assert.Len(t, p.ctx.fields, tt.fields)
			assert.Len(t, p.ctx.dynamic, tt.dynamic)
			assert.Equal(t, tt.wantAlias, p.defaultName())
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", "empty path (want e.g. body.event_id or headers.User-Agent)"},
		{"Body.x", `unknown source "Body" (want body, headers,`},
		{"requestContext", "requestContext needs a key, e.g. requestContext.identity.sourceIp"},
		{"requestContext.identty.sourceIp", `unknown key "identty" in requestContext (want accountId, resourceId, operationName, stage, domainName, domainPrefix, requestId, extendedRequestId, protocol, identity, resourcePath, path, authorizer, httpMethod, requestTime, requestTimeEpoch, apiId)`},
		{"requestContext.identity.sourceIP", `unknown key "sourceIP" in requestContext.identity (want cognitoIdentityPoolId,`},
		{"requestContext.stage.name", `requestContext.stage is of kind string, not an object: it has no .name`},
		{"requestContext.identity[0]", `requestContext.identity is an object: want .key, not [0]`},
		{"requestContext.requestTimeEpoch[1]", `requestContext.requestTimeEpoch is of kind int64, not an object: it has no [1]`},
		{"body.", "empty key at byte 5 (want .key)"},
		{"body..a", "empty key at byte 5 (want .key)"},
		{"body.a[", "[ at byte 7 is not closed (want [index])"},
		{"body.a[]", `index "" at byte 7 is not a whole number 0..1000000 without sign or leading zeros`},
		{"body.a[-1]", `index "-1" at byte 7`},
		{"body.a[01]", `index "01" at byte 7`},
		{"body.a[2000000]", `index "2000000" at byte 7`},
		{"body.a]b", "unexpected ] at byte 7 (want .key or [index])"},
		{"body.a[0]b", `unexpected 'b' at byte 10 (want .key or [index])`},
		{"body.a\tb", "control character at byte 7"},
		{"bodyx", `unknown source "bodyx"`},
		{"headers.", "headers needs a name, e.g. headers.name"},
		{"headers[0]", "headers is a map of strings: want headers.name, not [0]"},
		{"headers.User Agent", `header name "User Agent" has ' ', which a header name cannot hold`},
		{"queryStringParameters", "queryStringParameters needs a name, e.g. queryStringParameters.name"},
		{"pathParameters.", "pathParameters needs a name"},
		{"stageVariables.a\x01", `control character in stageVariables name "a\x01"`},
		{"httpMethod.x", `httpMethod is a string: it has no ".x"`},
		{"path[0]", `path is a string: it has no "[0]"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParsePath(tt.text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
