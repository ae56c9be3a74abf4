// Package dynstream reads the DynamoDB stream of a dynstore events table:
// it decodes stream records into signal.Commit values, in both shapes
// DynamoDB Streams hands them over (a Lambda event, DecodeLambdaEvent and
// DecodeLambdaRecord; the Streams API, DecodeStreamRecord), polls a stream
// through the Streams API (Poller, the local and self-hosted counterpart of
// the Lambda projector), and converts Streams API records into the records
// Lambda's event source mapping delivers (LambdaRecord), for tests and
// local runtimes.
//
// The item layout is dynstore's: records are decoded with
// dynstore.DecodeCommitItem, so a commit decodes the same way, with the
// same checks, whether it is read from the table or from its stream.
// Keeping this apart from dynstore keeps aws-lambda-go out of the store.
package dynstream
