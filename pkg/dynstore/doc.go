// Package dynstore is the DynamoDB adapter of Signal for Go: a
// signal.Store with snapshots, checkpoints and views, the table
// definitions, and a meter that counts requests and consumed capacity.
// Reading the events table's stream (record decoding, a poller) is
// package dynstream's, which reads items only through DecodeCommitItem,
// so this package does not depend on aws-lambda-go.
//
// The layout, and why one conditional PutItem per command is enough, is
// described in docs/TABLE.md. In short:
//
//   - Events table, partition key pk = "<type>#<id>", sort key sk = the
//     commit's first version. One item per command (kind "commit"), written
//     with attribute_not_exists(pk). A conflict returns the winning item
//     (ReturnValuesOnConditionCheckFailure ALL_OLD), so the Service needs
//     no blind re-read. A closing commit also writes a tombstone item at
//     the next version, in one transaction. The latest snapshot (kind
//     "snapshot") is the tip, at sk = 10^19 above every version, so one
//     descending Query reads it and the commits after it: a cold command
//     is one read and one write (LoadLatest). Streams: NEW_IMAGE.
//   - Views table, partition key pk: projection documents
//     ("v#<view>#<key>", kind "view") and subscriber checkpoints
//     ("c#<subscriber>#<type>#<id>", kind "checkpoint"), updated together
//     in one transaction.
//
// Endpoints come from the SDK's standard configuration (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_DYNAMODB), so moto_server, LocalStack and AWS need no
// code change.
package dynstore
