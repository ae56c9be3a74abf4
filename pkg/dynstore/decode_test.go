package dynstore

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestDecodeCommitItem covers the hook the stream reader decodes through:
// each outcome, and the stream named in errors when the pk can be read.
// The record-level cases (every malformed attribute, both record shapes)
// are dynstream's tests.
func TestDecodeCommitItem(t *testing.T) {
	c := signal.Commit{Stream: signal.StreamID{Type: "cart", ID: "c-1"}, Version: 3, CommandID: "cmd", Final: true,
		Time:   time.UnixMilli(1_700_000_000_123).UTC(),
		Events: []signal.RawEvent{{ID: "e", Name: "A", SchemaVersion: 1, Data: []byte(`{}`)}, {ID: "f", Name: "B", SchemaVersion: 2, Data: []byte{0xff}}}}
	without := func(name string) map[string]types.AttributeValue {
		item := EncodeCommitItem(&c)
		delete(item, name)
		return item
	}
	noPK := without(attrKind)
	delete(noPK, attrPK)
	cases := []struct {
		name   string
		item   map[string]types.AttributeValue
		commit bool
		what   string // in the error's Message; "" for no error
		stream signal.StreamID
	}{
		{name: "commit", item: EncodeCommitItem(&c), commit: true},
		{name: "tombstone", item: tombstoneItem(&c)},
		{name: "snapshot", item: map[string]types.AttributeValue{attrPK: str("cart#c-1"), attrSK: &types.AttributeValueMemberN{Value: tipSK}, attrKind: str(KindSnapshot)}},
		{name: "no kind", item: without(attrKind), what: `no string attribute "kind"`, stream: c.Stream},
		{name: "no kind, no pk", item: noPK, what: `no string attribute "kind"`},
		{name: "bad commit", item: without(attrTime), what: `malformed commit item "cart#c-1": ts`, stream: c.Stream},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := DecodeCommitItem(tc.item)
			if tc.what == "" {
				want := signal.Commit{}
				if tc.commit {
					want = c
				}
				if err != nil || ok != tc.commit || !reflect.DeepEqual(got, want) {
					t.Fatalf("got (%+v, %v, %v), want (%+v, %v, nil)", got, ok, err, want, tc.commit)
				}
				return
			}
			var se *signal.Error
			if ok || !reflect.DeepEqual(got, signal.Commit{}) || !errors.As(err, &se) {
				t.Fatalf("got (%+v, %v, %v), want a zero commit, false, a *signal.Error", got, ok, err)
			}
			if se.Kind != signal.KindInternal || se.Stream != tc.stream || !strings.Contains(se.Message, tc.what) {
				t.Fatalf("error %+v: want internal, stream %v, message containing %q", se, tc.stream, tc.what)
			}
		})
	}
}

// TestCommitItemActor: Commit.Actor is the "ac" attribute, written only
// when set: an item of a commit without one has exactly the attributes
// items had before actors were recorded (so it costs no byte more), and
// such an item, old or new, decodes with an empty Actor.
func TestCommitItemActor(t *testing.T) {
	c := signal.Commit{Stream: signal.StreamID{Type: "cart", ID: "c-1"}, Version: 1, CommandID: "cmd", Final: true,
		Time:   time.UnixMilli(1_700_000_000_123).UTC(),
		Events: []signal.RawEvent{{ID: "e", Name: "A", SchemaVersion: 1, Data: []byte(`{}`)}}}
	item := EncodeCommitItem(&c)
	var names []string
	for name := range item {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"cmd", "ev", "final", "kind", "last", "pk", "sk", "ts"}; !slices.Equal(names, want) {
		t.Errorf("the item of a commit without an actor has the attributes %q, want %q", names, want)
	}

	c.Actor = "auth0|ünïcødé #1"
	item = EncodeCommitItem(&c)
	if ac, ok := item["ac"].(*types.AttributeValueMemberS); !ok || ac.Value != c.Actor {
		t.Fatalf(`item["ac"] = %#v, want the string %q`, item["ac"], c.Actor)
	}
	if got, ok, err := DecodeCommitItem(item); err != nil || !ok || !reflect.DeepEqual(got, c) {
		t.Errorf("DecodeCommitItem = (%+v, %v, %v), want (%+v, true, nil)", got, ok, err, c)
	}
	delete(item, "ac")
	c.Actor = ""
	if got, ok, err := DecodeCommitItem(item); err != nil || !ok || !reflect.DeepEqual(got, c) {
		t.Errorf("DecodeCommitItem of an item without \"ac\" = (%+v, %v, %v), want (%+v, true, nil)", got, ok, err, c)
	}
}
