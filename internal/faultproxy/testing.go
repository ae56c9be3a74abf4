package faultproxy

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Seed is the proxy's schedule seed for a test: SIGNAL_FAULT_SEED, or 1,
// so a failing schedule can be replayed by setting the variable. A value
// that is not a number fails the test.
func Seed(t testing.TB) uint64 {
	s := os.Getenv("SIGNAL_FAULT_SEED")
	if s == "" {
		return 1
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("SIGNAL_FAULT_SEED: %v", err)
	}
	return n
}

// Retryer is the SDK's standard retryer as dynstore.Retryer configures it
// (attempts, no retry quota) with millisecond backoffs instead of second
// ones, so tests through the proxy stay fast.
func Retryer(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return time.Duration(rand.Int64N(int64(2*time.Millisecond)<<min(attempt, 5))) + time.Millisecond, nil
		})
	})
}
