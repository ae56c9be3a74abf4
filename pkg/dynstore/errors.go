package dynstore

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/signalforgo/signal/pkg/signal"
)

// mapError gives an AWS failure its signal kind. The AWS text stays in
// Err (for logs); Message is generic, so nothing from AWS reaches clients.
//
//   - throttling, 5xx, network errors, timeouts, exhausted retries, a
//     transaction canceled because it was throttled: KindUnavailable (the
//     SDK's retryer has already retried them).
//   - a transaction canceled by a concurrent one: KindConflict.
//   - "item size has exceeded": KindTooLarge.
//   - anything else (access denied, missing table, validation): KindInternal.
func mapError(op string, stream signal.StreamID, err error) error {
	if err == nil {
		return nil
	}
	var se *signal.Error
	if errors.As(err, &se) {
		return err
	}
	kind, msg := signal.KindInternal, "DynamoDB request failed"
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	var netErr net.Error
	var maxAttempts *retry.MaxAttemptsError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		kind, msg = signal.KindUnavailable, "DynamoDB did not answer in time; try again"
	case canceledFor(err, "ThrottlingError", "ProvisionedThroughputExceeded"):
		kind, msg = signal.KindUnavailable, "DynamoDB is throttling; try again"
	case canceledFor(err, "TransactionConflict"):
		kind, msg = signal.KindConflict, "a concurrent transaction changed the same items; try again"
	case errors.As(err, &api) && isThrottle(api.ErrorCode()):
		kind, msg = signal.KindUnavailable, "DynamoDB is throttling; try again"
	case errors.As(err, &api) && api.ErrorCode() == "ValidationException" && strings.Contains(strings.ToLower(api.ErrorMessage()), "item size"):
		kind, msg = signal.KindTooLarge, "the item exceeds DynamoDB's 400 KB limit"
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500,
		errors.As(err, &netErr),
		errors.As(err, &maxAttempts):
		kind, msg = signal.KindUnavailable, "DynamoDB is unavailable; try again"
	}
	return &signal.Error{Kind: kind, Op: op, Stream: stream, Message: msg, Err: err}
}

func isThrottle(code string) bool {
	switch code {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
		"LimitExceededException", "InternalServerError", "ServiceUnavailable", "TransactionInProgressException":
		return true
	}
	return false
}

// canceledFor reports whether err is a canceled transaction with one of
// the given cancellation reasons.
func canceledFor(err error, codes ...string) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	for _, r := range tce.CancellationReasons {
		if slices.Contains(codes, aws.ToString(r.Code)) {
			return true
		}
	}
	return false
}
