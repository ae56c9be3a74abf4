package dynstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) signal.Store { return newTestStore(t).Store })
}

// TestService runs Services over the store as two Lambda containers
// would: two stores on the same tables, commands racing from both
// (storetest.RunService; the projection is fed from Load, as the stream
// would deliver it).
func TestService(t *testing.T) {
	storetest.RunService(t, storetest.ServiceStores{
		New: func(t *testing.T) signal.Store { return newTestStore(t).Store },
		Shared: func(t *testing.T, s signal.Store) signal.Store {
			first := s.(*Store)
			st, err := New(first.api, first.tables)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	})
}

// tokenRecorder passes every call on and records the ClientRequestToken
// of each transaction.
type tokenRecorder struct {
	API
	mu     sync.Mutex
	tokens []string
}

func (r *tokenRecorder) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	r.mu.Lock()
	r.tokens = append(r.tokens, aws.ToString(in.ClientRequestToken))
	r.mu.Unlock()
	return r.API.TransactWriteItems(ctx, in, opts...)
}

// last is the token of the latest transaction.
func (r *tokenRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tokens[len(r.tokens)-1]
}

// checkToken checks a ClientRequestToken DynamoDB accepts (1 to 36
// printable ASCII characters), the event id itself exactly when kept.
func checkToken(t *testing.T, token, id string, kept bool) {
	t.Helper()
	if len(token) < 1 || len(token) > 36 {
		t.Errorf("ClientRequestToken %q has %d characters; DynamoDB takes 1 to 36", token, len(token))
	}
	for _, b := range []byte(token) {
		if b < 0x21 || b > 0x7e {
			t.Errorf("ClientRequestToken %q holds byte %#x", token, b)
		}
	}
	if (token == id) != kept {
		t.Errorf("ClientRequestToken %q for event id %q: kept = %v, want %v", token, id, token == id, kept)
	}
}

// TestFinalCommitToken: a final commit's transaction carries a
// ClientRequestToken DynamoDB accepts (1 to 36 characters), whatever its
// first event id, which may be up to signal.MaxIDBytes of any Unicode.
// moto_server does not check tokens, so the test reads them from the
// requests: an event id sent as it is would be refused by DynamoDB with a
// ValidationException, failing the close.
func TestFinalCommitToken(t *testing.T) {
	ts := newTestStore(t)
	rec := &tokenRecorder{API: ts.client}
	st, err := New(rec, ts.tables)
	if err != nil {
		t.Fatal(err)
	}
	// Every id is fresh: DynamoDB keeps a token for 10 minutes, and the
	// same token on another request (a rerun on new tables) is refused.
	fresh := signal.NewID
	cases := []struct {
		name, id string
		kept     bool // the token is the id itself
	}{
		{"generated id", fresh(), true},
		{"36 ASCII characters", strings.ReplaceAll(fresh(), "-", "x"), true},
		{"37 ASCII characters", fresh() + "x", false},
		{fmt.Sprintf("%d bytes", signal.MaxIDBytes), fresh() + strings.Repeat("k", signal.MaxIDBytes-36), false},
		{"a space", "a b " + fresh(), false},
		{"short Unicode", "ünï" + fresh()[:8], false},
		{"slashes and hashes", "#/#" + fresh()[:8], true},
	}
	seen := map[string]string{}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := signal.Commit{Stream: signal.StreamID{Type: "cart", ID: fmt.Sprint("token-", i)}, Version: 1, CommandID: "close",
				Time: time.UnixMilli(time.Now().UnixMilli()).UTC(), Final: true,
				Events: []signal.RawEvent{{ID: tc.id, Name: "CartDiscarded", SchemaVersion: 1, Data: []byte(`{}`)}}}
			if err := st.Append(t.Context(), c); err != nil {
				t.Fatalf("Append of a final commit whose event id is %s: %v", tc.name, err)
			}
			token := rec.last()
			checkToken(t, token, tc.id, tc.kept)
			if other, dup := seen[token]; dup {
				t.Errorf("event ids %q and %q share the token %q", other, tc.id, token)
			}
			seen[token] = tc.id
			var got []signal.Commit
			for lc, err := range st.Load(t.Context(), c.Stream, 0) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, lc)
			}
			if len(got) != 1 || got[0].Events[0].ID != tc.id || !got[0].Final {
				t.Errorf("Load = %+v, want the final commit with event id %q", got, tc.id)
			}
		})
	}
}
