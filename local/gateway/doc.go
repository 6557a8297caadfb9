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
//     them; a function error or a malformed result (not a JSON object,
//     statusCode missing or outside 100-599, a body or header of the wrong
//     JSON type): 502 {"message": "Internal server error"}; a body marked
//     isBase64Encoded that is not base64: 500. The integration's
//     timeoutInMillis (default 29,000): 504 {"message": "Endpoint request
//     timed out"}. A request over 10 MB: 413 with AWS's plain-text body
//     "HTTP content length exceeded 10485760 bytes." and no request id (AWS
//     refuses it before the API sees it, so no gateway response applies);
//     an event over Lambda's 6 MB synchronous limit: 413
//     {"message": "Request Too Long"}.
//   - Binary media types (x-amazon-apigateway-binary-media-types, with
//     wildcards such as image/* or */*): a request body of such a media type
//     reaches the function base64-encoded; a result marked isBase64Encoded is
//     sent decoded only when the first media type of the caller's Accept is
//     one of them, as AWS looks at no other.
//   - Throttling (WithThrottle): a token bucket per method, as the stage's
//     default method throttling; 429 {"message":"Too Many Requests"}.
//   - Stage variables in the integration uri: ${stageVariables.<name>}
//     takes the stage's value (WithStageVariables), so one document serves
//     stages that invoke different aliases; a function ARN qualified by an
//     alias or version invokes that one (WithFunctions).
//   - Access logging (WithAccessLog): the stage's format rendered with the
//     same $context variables, "-" for a value that is not available.
//
// Known differences from AWS:
//   - Go's HTTP server canonicalizes header names, so headers reach the
//     event as Content-Type, X-Custom-Header rather than in the caller's
//     case (HTTP/2 clients send lower case to AWS anyway).
//   - The event is marshalled from events.APIGatewayProxyRequest, so an
//     absent body is "" rather than null, isBase64Encoded is omitted when
//     false, identity fields without a value are omitted rather than null,
//     and requestContext.authorizer is null; a Go function decodes the
//     same values either way.
//   - Authorizers, API keys, usage plans and non-proxy integrations are not
//     served: New refuses a document that needs them rather than serving
//     something else.
package gateway
