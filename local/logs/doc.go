// Package logs is the local stack's CloudWatch Logs: a Store of log groups,
// streams and events that the Lambda pool appends to, and an http.Handler
// (New) serving the AWS JSON 1.1 API over it, so that the aws-sdk-go-v2
// cloudwatchlogs client and the AWS CLI work against it unchanged.
//
// Operations: CreateLogGroup, DescribeLogGroups, DeleteLogGroup,
// PutRetentionPolicy, DeleteRetentionPolicy, CreateLogStream,
// DescribeLogStreams, PutLogEvents, GetLogEvents and FilterLogEvents, with
// AWS's limits, pagination and error types (filter patterns are parsed by
// the filter subpackage). No emulator library exists for this API in Go, so
// the handler is written here against the API model the SDK is generated
// from.
//
// How it behaves where AWS leaves room:
//   - Ingestion is immediate: an event is visible to every reader as soon as
//     Append or PutLogEvents returns (AWS is eventually consistent).
//   - Events are ordered by timestamp, then by ingestion, as AWS documents;
//     FilterLogEvents pages continue after the last event returned, so
//     events arriving while a client pages never repeat or shift a page.
//   - FilterLogEvents patterns with an exact `$.x = "text"` condition use an
//     index of the text at that selector, built on first use and kept up to
//     date from the ingestion log; Append itself never parses JSON.
//   - Retention settings are stored and reported, and PutLogEvents rejects
//     events older than the retention period, but stored events are never
//     expired.
//   - searchedLogStreams is always an empty list, as on AWS since 2020.
//   - Sequence tokens are ignored, as on AWS since 2023.
//
// With a directory, the store is durable across restarts; see persist.go
// for the file format and what a crash can lose.
package logs
