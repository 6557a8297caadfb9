// Package gateway is the local stack's API Gateway: it serves one deployed
// stage of a REST (v1) API from the OpenAPI document, with AWS extensions,
// that Terraform deploys, and calls Lambda functions through aws_proxy
// integrations with exactly the event API Gateway sends
// (events.APIGatewayProxyRequest).
//
// Everything is compiled when New is called (routes, validators, models,
// gateway responses, templates), so a request never walks the document.
//
// What it reproduces, and how faithfully:
//
//   - Routing: resources from the OpenAPI paths, {name} and {name+}
//     parameters and x-amazon-apigateway-any-method. A request goes to the
//     most specific resource that declares its method (or ANY): a literal
//     segment before a {name} segment before a {name+} resource, falling back
//     to the next candidate when one lacks the method, as measured on AWS.
//     No match: 403 {"message":"Missing Authentication Token"}. A trailing
//     slash is ignored.
//   - Request validators (x-amazon-apigateway-request-validators, the
//     top-level default x-amazon-apigateway-request-validator and the
//     per-operation one). Parameters: required path, query string and header
//     parameters must be present and not blank (existence only, as AWS);
//     400 {"message": "Missing required request parameters: [a, b]"}, names
//     in document order. Body: the model of the request's media type (or
//     $default; a request without Content-Type counts as application/json),
//     checked with kin-openapi; no matching media type, no validation; an
//     empty body is checked as {}. A body that fails its model or is not
//     JSON: 400 {"message": "Invalid request body"}.
//   - $context.error.validationErrorString carries the messages of the
//     draft-4 validator AWS runs (java-json-tools), e.g.
//     [object has missing required properties (["type"]), instance value
//     ("bird") not found in enum (possible values: ["signup","login"])],
//     JSON-escaped as AWS substitutes it. The messages are rebuilt from
//     kin-openapi's errors: the wording follows the draft-4 validator for
//     type, enum, required, additionalProperties, bounds, lengths, pattern,
//     items, properties counts, multipleOf and the combinators; formats use
//     a short generic wording and a body that is not JSON gets Go's parse
//     error, which AWS words differently.
//   - Gateway responses (x-amazon-apigateway-gateway-responses): statusCode,
//     responseParameters (gatewayresponse.header.* from 'literal',
//     method.request.header|querystring|path.*, context.*, stageVariables.*)
//     and responseTemplates, with DEFAULT_4XX/DEFAULT_5XX fallbacks: the
//     type's own entry if customized, else the family's, else AWS's default.
//     Templates are rendered by variable substitution only ($context.*,
//     ${context.*}, $stageVariables.*), which is all API Gateway applies to
//     gateway responses; anything else is left as written. Every answer the
//     gateway makes itself carries x-amzn-RequestId and x-amzn-ErrorType.
//   - Lambda proxy integration: event and response mapping as AWS documents
//     them and as its answers were recorded (fidelity_test.go cites both).
//     The event keeps the caller's header names (through rawheader; API
//     Gateway capitalises Authorization and User-Agent), leaves out
//     Connection, Content-Length, Content-MD5, Expect, Max-Forwards,
//     Proxy-Authenticate, Server, TE, Transfer-Encoding, Trailer, Upgrade
//     and WWW-Authenticate, keeps the client's percent-encoding in path,
//     pathParameters and requestContext.path (%2B stays %2B), reads the
//     query string split at & and at ; (AWS's REST API notes: a semicolon
//     splits the data), + as a space, the last value of a repeated name in
//     queryStringParameters and all of them in
//     multiValueQueryStringParameters, has "body":
//     null and "isBase64Encoded": false without a body, every identity key
//     (null when unknown) and a deploymentId; a path starting with "//"
//     is routed and given as path with one slash, while
//     requestContext.path ($context.path) keeps the slashes as sent; a
//     double slash inside a {name+} parameter is kept in it. A result may have statusCode (a number or
//     a numeric string; 200 when absent), headers and multiValueHeaders
//     (string or boolean values, merged into one list per name), body and
//     isBase64Encoded, and no other key. A function error or a malformed
//     result: 502 {"message": "Internal server error"}, the first an
//     INTEGRATION_FAILURE (as AWS's access log names it; that type's
//     gateway response applies), the second DEFAULT_5XX; a body marked
//     isBase64Encoded that is not base64: 500. The integration's
//     timeoutInMillis (default 29,000): 504 {"message": "Endpoint request
//     timed out"}. A request over 10 MB: 413 with AWS's plain-text body
//     "HTTP content length exceeded 10485760 bytes." and no request id (AWS
//     refuses it before the API sees it, so no gateway response applies);
//     an event over Lambda's 6 MB synchronous limit: 413
//     {"message": "Request Too Long"}. A body that ends before its framing
//     says (shorter than its Content-Length, a chunked body cut off or
//     malformed) is answered 400 {"message": "The request body is
//     incomplete: …"} and never reaches the function; AWS's front end
//     refuses such a request before API Gateway sees it.
//   - Binary media types (x-amazon-apigateway-binary-media-types, with
//     wildcards such as image/* or */*): a request body of such a media type
//     reaches the function base64-encoded; a result marked isBase64Encoded is
//     sent decoded only when the first media type of the caller's Accept is
//     one of them, as AWS looks at no other.
//   - Bodies over 1 MiB wait for a share of a per-process budget of two
//     10 MB bodies before they are read: validating one costs many times its
//     size in memory. API Gateway has no such wait; it only delays large
//     requests that come many at once.
//   - Throttling (WithThrottle): a token bucket per method, as the stage's
//     default method throttling; 429 {"message":"Too Many Requests"}.
//   - Security (access.go), from securitySchemes and security as API
//     Gateway imports them: an apiKey scheme x-api-key in the header
//     (api_key_required; WithAPIKeys: the key must be in a usage plan of
//     the stage, within its throttle and daily quota) and an apiKey scheme
//     with x-amazon-apigateway-authtype awsSigv4 (AWS_IAM; WithSigV4: the
//     request's signature must verify against the stack's credentials).
//     Checked after the body is read, before validation, the signature
//     before the key; refused: 403 {"message":"Forbidden"}, 429 "Too Many
//     Requests" or "Limit Exceeded", 403 "Missing Authentication Token" or
//     AWS's signature answers. The event's requestContext.identity carries
//     apiKey and apiKeyId, or the signer's accessKey, accountId, caller,
//     user and userArn.
//   - Stage variables in the integration uri: ${stageVariables.<name>}
//     takes the stage's value (WithStageVariables), so one document serves
//     stages that invoke different aliases; a function ARN qualified by an
//     alias or version invokes that one (WithFunctions).
//   - Access logging (WithAccessLog): the stage's format rendered with the
//     same $context variables, "-" for a value that is not available.
//
// Known differences from AWS:
//   - Header names are the caller's only when the gateway is served through
//     rawheader (local-aws serve and stacktest are); otherwise net/http's
//     canonical names. The CloudFront headers AWS adds (Via, X-Amz-Cf-Id,
//     CloudFront-*) are not.
//   - Lambda and Cognito authorizers, API keys from an authorizer and
//     non-proxy integrations are not served: New refuses a document that
//     needs them rather than serving something else. API keys and usage
//     plans are served through WithAPIKeys, as package apikeys emulates
//     them.
package gateway
