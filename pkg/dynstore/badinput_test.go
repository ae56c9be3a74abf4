package dynstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// itemCount scans a table and counts its items (strongly consistent).
func itemCount(t *testing.T, st *testStore, table string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(st.client, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
	}
	return n
}

func TestBadInputLeavesTableUnchanged(t *testing.T) {
	st := newTestStore(t)
	ctx := t.Context()
	svc := newService(t, st.Store)
	if _, _, err := signal.Bind(svc, tab.Type).Handle(ctx, "c1", add("lager", 1)); err != nil {
		t.Fatal(err)
	}
	before := itemCount(t, st, st.tables.Events)
	huge := signal.Commit{Stream: signal.StreamID{Type: "tab", ID: "c1"}, Version: 2, Time: time.Now(),
		Events: []signal.RawEvent{{ID: "e", Name: "ItemOrdered", SchemaVersion: 1, Data: []byte(`"` + strings.Repeat("x", 400*1024) + `"`)}}}
	cases := []struct {
		name string
		run  func() error
		want *signal.Error
	}{
		{"id with #", func() error { _, err := svc.Handle(ctx, "tab", "a#b", add("lager", 1)); return err }, signal.ErrInvalid},
		{"empty id", func() error { _, err := svc.Handle(ctx, "tab", "", add("lager", 1)); return err }, signal.ErrInvalid},
		{"1 KB id", func() error {
			_, err := svc.Handle(ctx, "tab", strings.Repeat("i", 1024), add("lager", 1))
			return err
		}, signal.ErrInvalid},
		{"store: id with #", func() error {
			c := huge
			c.Stream.ID, c.Events = "a#b", []signal.RawEvent{{ID: "e", Name: "ItemOrdered", SchemaVersion: 1, Data: []byte(`{}`)}}
			return st.Append(ctx, c)
		}, signal.ErrInvalid},
		{"store: 1 KB id", func() error {
			c := huge
			c.Stream.ID, c.Events = strings.Repeat("i", 1024), []signal.RawEvent{{ID: "e", Name: "ItemOrdered", SchemaVersion: 1, Data: []byte(`{}`)}}
			return st.Append(ctx, c)
		}, signal.ErrInvalid},
		{"store: event over 400 KB", func() error { return st.Append(ctx, huge) }, signal.ErrTooLarge},
		{"malformed command JSON", func() error { _, err := svc.HandleJSON(ctx, "tab", "c1", "OrderItem", []byte(`{"item":`)); return err }, signal.ErrInvalid},
		{"unknown command", func() error { _, err := svc.HandleJSON(ctx, "tab", "c1", "Steal", []byte(`{}`)); return err }, signal.ErrUnknownCommand},
		{"domain refusal", func() error { _, err := svc.Handle(ctx, "tab", "c1", add("lager", -1)); return err }, signal.ErrRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want.Kind)
			}
		})
	}
	if n := itemCount(t, st, st.tables.Events); n != before {
		t.Fatalf("bad input changed the table: %d items, was %d", n, before)
	}
}

func TestUnknownEventInTable(t *testing.T) {
	st := newTestStore(t)
	ctx := t.Context()
	c := signal.Commit{Stream: signal.StreamID{Type: "tab", ID: "old"}, Version: 1, CommandID: "x", Time: time.Now(),
		Events: []signal.RawEvent{{ID: "e1", Name: "ItemTeleported", SchemaVersion: 1, Data: []byte(`{}`)}}}
	if _, err := st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.tables.Events), Item: commitItem(&c)}); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, st.Store)
	if _, err := svc.Get(ctx, "tab", "old"); !errors.Is(err, signal.ErrUnknownEvent) {
		t.Fatalf("get: %v, want ErrUnknownEvent", err)
	}
	if _, err := svc.Handle(ctx, "tab", "old", add("lager", 1)); !errors.Is(err, signal.ErrUnknownEvent) {
		t.Fatalf("command: %v, want ErrUnknownEvent", err)
	}
	if n := itemCount(t, st, st.tables.Events); n != 1 {
		t.Fatalf("%d items, want 1", n)
	}
	// A malformed item is a typed error too, naming the item.
	bad := commitItem(&c)
	delete(bad, attrEvents)
	bad[attrPK] = str("tab#broken")
	if _, err := st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.tables.Events), Item: bad}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Get(ctx, "tab", "broken")
	if !errors.Is(err, signal.ErrInternal) || !strings.Contains(err.Error(), "tab#broken") {
		t.Fatalf("malformed item: %v", err)
	}
	if strings.Contains(signal.PublicMessage(err), "tab#broken") {
		t.Fatal("item details leak to clients")
	}
}

func TestMapError(t *testing.T) {
	stream := signal.StreamID{Type: "tab", ID: "c"}
	cases := []struct {
		err  error
		want signal.Kind
	}{
		{&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"}, signal.KindUnavailable},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, signal.KindUnavailable},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}, signal.KindTooLarge},
		{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "arn:aws:iam::123:role/x is not authorized"}, signal.KindInternal},
		{&smithy.GenericAPIError{Code: "ResourceNotFoundException"}, signal.KindInternal},
		{context.DeadlineExceeded, signal.KindUnavailable},
		{fmt.Errorf("op: %w", context.Canceled), signal.KindUnavailable},
	}
	for _, c := range cases {
		err := mapError("op", stream, c.err)
		if signal.KindOf(err) != c.want || !errors.Is(err, c.err) {
			t.Errorf("%v -> %v, want %v", c.err, signal.KindOf(err), c.want)
		}
		if msg := signal.PublicMessage(err); strings.Contains(msg, "arn:") || strings.Contains(msg, "Exception") {
			t.Errorf("AWS text leaks to clients: %q", msg)
		}
	}
}
