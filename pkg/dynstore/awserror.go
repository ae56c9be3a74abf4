package dynstore

import "github.com/signalforgo/signal/pkg/signal"

// AWSError gives a failed request to DynamoDB or its Streams API the same
// signal kinds the store's own requests get, so a stream reader (package
// dynstream) reports failures as the store does. Outcomes: nil for nil; a
// *signal.Error is returned as it is; anything else becomes a *signal.Error
// with Op op and the AWS failure in Err (for logs) and a generic Message:
// KindUnavailable for throttling, 5xx, network errors, timeouts and
// exhausted retries (the SDK has already retried them), KindConflict for a
// transaction canceled by a concurrent one, KindTooLarge for an item over
// 400 KB, KindInternal for anything else (access denied, validation).
func AWSError(op string, err error) error {
	return mapError(op, signal.StreamID{}, err)
}
