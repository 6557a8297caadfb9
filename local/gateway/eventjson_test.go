package gateway

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullEvent is an event with every field set, in the places a caller's
// text can reach characters JSON escapes.
func fullEvent(text string) proxyEvent {
	body := `{"event_id":"` + text + `"}`
	str := func(prefix string) *string { v := prefix + text; return &v }
	return proxyEvent{
		Resource: "/items/{id}", Path: "/items/" + text, HTTPMethod: "POST",
		Headers:                         map[string]string{"Content-Type": "application/json", "x-" + text: text, "Host": "127.0.0.1:4566"},
		MultiValueHeaders:               map[string][]string{"Content-Type": {"application/json"}, "x-" + text: {text, "b"}, "Empty": {}},
		QueryStringParameters:           map[string]string{"q": text, "a": ""},
		MultiValueQueryStringParameters: map[string][]string{"q": {"1", text}, "a": {""}},
		PathParameters:                  map[string]string{"id": text},
		StageVariables:                  map[string]string{"alias": "live", "z": text},
		RequestContext: proxyContext{
			AccountID: "123456789012", APIID: "abc123", DeploymentID: "dep1", DomainName: "127.0.0.1:4566",
			DomainPrefix: "127", ExtendedRequestID: "TWegAcC4EowCHnA=", HTTPMethod: "POST",
			Identity: proxyIdentity{
				AccessKey: str("AKIA"), AccountID: str("1234"), APIKey: str("key-"), APIKeyID: str("id-"), Caller: str("caller-"),
				CognitoAuthenticationProvider: str("cap-"), CognitoAuthenticationType: str("cat-"), CognitoIdentityID: str("ci-"),
				CognitoIdentityPoolID: str("cip-"), PrincipalOrgID: str("o-"), SourceIP: "127.0.0.1", User: str("user-"),
				UserAgent: text, UserArn: str("arn:aws:iam::1234:user/"),
			},
			OperationName: "op" + text, Path: "/dev/items/" + text, Protocol: "HTTP/1.1",
			RequestID: "c6af9ac6-7b61-41a4-9c2d-7e3b5f0a1d2e", RequestTime: "04/Dec/2026:15:04:05 +0000",
			RequestTimeEpoch: 1796396645123, ResourceID: "r1", ResourcePath: "/items/{id}", Stage: "dev",
		},
		Body:            &body,
		IsBase64Encoded: true,
	}
}

func TestEventJSONIsJSONMarshal(t *testing.T) {
	full := fullEvent(`a "b" <c> & d\e` + "\n\t\u2028é\xff")
	// A field added to the event but left out of appendJSON only shows
	// when the table sets it: the full event sets every field.
	for _, v := range []reflect.Value{reflect.ValueOf(full), reflect.ValueOf(full.RequestContext), reflect.ValueOf(full.RequestContext.Identity)} {
		for i := range v.NumField() {
			assert.False(t, v.Field(i).IsZero(), "fullEvent leaves %s.%s unset", v.Type().Name(), v.Type().Field(i).Name)
		}
	}
	bare := proxyEvent{Resource: "/", Path: "/", HTTPMethod: "GET", Headers: map[string]string{}, MultiValueHeaders: map[string][]string{}}
	noBody := fullEvent("x")
	noBody.Body, noBody.RequestContext.OperationName = nil, ""
	for name, e := range map[string]proxyEvent{"every field": full, "no maps, no body": bare, "no body, no operation": noBody, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(e)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(e.appendJSON(nil)))
		})
	}
}

func FuzzEventJSONIsJSONMarshal(f *testing.F) {
	f.Add("plain")
	f.Add("<\"\\\x00\u2029\xfe>")
	f.Fuzz(func(t *testing.T, text string) {
		e := fullEvent(text)
		want, err := json.Marshal(e)
		require.NoError(t, err)
		if got := e.appendJSON(nil); string(got) != string(want) {
			t.Fatalf("appendJSON with %q:\n%s\njson.Marshal:\n%s", text, got, want)
		}
	})
}
