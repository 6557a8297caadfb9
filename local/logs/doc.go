// Package logs is the local stack's CloudWatch Logs service: a store of log
// groups, streams and events, and an http.Handler that serves the AWS JSON 1.1
// API (X-Amz-Target: Logs_20140328.<Operation>) over it, so that the real
// aws-sdk-go-v2 cloudwatchlogs client and the AWS CLI can be pointed at it.
package logs
