package signal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// decodeView decodes a view document as encoding/json.Unmarshal does,
// by the same path as stored events (unmarshalV1, codec.go): the same
// values (viewjson_test.go compares them), and on a failure
// encoding/json's own error, without its three or four allocations per
// call. A failed fast decode may have set some of dst's fields from data;
// encoding/json then decodes the same data over them, so nothing needs
// resetting. Documents are still encoded by encoding/json, whose bytes
// its v2 implementation does not always reproduce (invalid UTF-8 comes
// out as a raw U+FFFD, not "\ufffd").
func decodeView(data []byte, dst any) error { return unmarshalV1(data, dst, func() {}) }

// ViewTx collects a projection's document reads and writes for one run of
// events. Reads see the run's own earlier writes; writes reach the store
// only when the run commits, together with the checkpoint, each
// conditioned on the version the document had when it was read. A ViewTx
// is valid only during the handler call it is passed to: the dispatcher
// reuses it for its next run.
type ViewTx struct {
	store ViewStore
	// tenant scopes every key, under Tenancy: the tenant of the stream
	// being projected; "" otherwise.
	tenant string
	// slab holds the documents in the order first read; docs indexes it
	// once it holds more than scanDocs (a scan of a few is quicker than
	// hashing two strings). Indexes, not pointers, so the slab is reused
	// run after run.
	docs map[viewKey]int
	slab []txDoc
	// writes and bytes count the changed documents and their sizes,
	// checked against MaxViewWrites and MaxViewRunBytes after each event.
	writes, bytes int
	// undo holds the documents as they were before the current event's
	// changes, so an event that fails or overflows the run is taken back
	// without reading anything again.
	undo []undoEntry
	mark txCounts
	// validName is the view name last found valid: a projection writes
	// the same few views run after run.
	validName string
}

type viewKey struct{ name, key string }

type txDoc struct {
	key     viewKey
	version int64 // as read; 0 if it did not exist
	data    []byte
	dirty   bool
}

type undoEntry struct {
	doc  int // in slab
	prev txDoc
}

type txCounts struct{ writes, bytes int }

func newViewTx(store ViewStore, tenant string) *ViewTx {
	return &ViewTx{store: store, tenant: tenant}
}

// reset empties tx for a new run, keeping its memory.
func (tx *ViewTx) reset(store ViewStore, tenant string) {
	if len(tx.slab) > scanDocs {
		clear(tx.docs)
	}
	clear(tx.slab) // keeps no document alive
	clear(tx.undo)
	tx.store, tx.tenant = store, tenant
	tx.slab, tx.undo = tx.slab[:0], tx.undo[:0]
	tx.writes, tx.bytes, tx.mark = 0, 0, txCounts{}
}

// scope is the stored key of a projection's key: in the tenant of the
// stream projected, under Tenancy (ErrInvalid for a key holding
// TenantSeparator then).
func (tx *ViewTx) scope(key string) (string, error) {
	if tx.tenant == "" {
		return key, nil
	}
	if strings.Contains(key, TenantSeparator) {
		return "", Errorf(KindInvalid, "signal.ViewTx", "view key %q contains %q, which keys may not contain when tenancy is on", truncate(key, 64), TenantSeparator)
	}
	return scoped(tx.tenant, key), nil
}

// Get decodes the document (name, key) into dst and reports whether it
// exists. Errors: ErrInvalid for a bad name or key, store failures, or a
// document that does not decode into dst.
func (tx *ViewTx) Get(ctx context.Context, name, key string, dst any) (bool, error) {
	key, err := tx.scope(key)
	if err != nil {
		return false, err
	}
	d, err := tx.read(ctx, name, key)
	if err != nil || tx.slab[d].data == nil {
		return false, err
	}
	if err := decodeView(tx.slab[d].data, dst); err != nil {
		return false, &Error{Kind: KindInternal, Op: "signal.ViewTx.Get", Message: fmt.Sprintf("view %s/%s does not decode", name, key), Err: err}
	}
	return true, nil
}

// Put replaces the document (name, key) with doc encoded as JSON. If the
// document was not read first it is read now, so the write is still
// conditioned on its version. ErrTooLarge for a document over
// MaxCommitBytes.
func (tx *ViewTx) Put(ctx context.Context, name, key string, doc any) error {
	key, err := tx.scope(key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return &Error{Kind: KindInternal, Op: "signal.ViewTx.Put", Message: fmt.Sprintf("view %s/%s does not encode", name, key), Err: err}
	}
	if len(data) > MaxCommitBytes {
		return &Error{Kind: KindTooLarge, Op: "signal.ViewTx.Put", Message: fmt.Sprintf("view %s/%s is %d bytes, more than %d", name, key, len(data), MaxCommitBytes)}
	}
	d, err := tx.read(ctx, name, key)
	if err != nil {
		return err
	}
	tx.change(d, data)
	return nil
}

// Delete removes the document (name, key) when the run commits.
func (tx *ViewTx) Delete(ctx context.Context, name, key string) error {
	d, err := tx.read(ctx, name, key)
	if err != nil {
		return err
	}
	tx.change(d, nil)
	return nil
}

// change sets the new data of the document at slab[i], keeping what it
// was for undo.
func (tx *ViewTx) change(i int, data []byte) {
	d := &tx.slab[i]
	tx.undo = append(tx.undo, undoEntry{doc: i, prev: *d})
	if d.dirty {
		tx.bytes -= len(d.data)
	} else {
		tx.writes++
	}
	tx.bytes += len(data)
	d.data, d.dirty = data, true
}

// savepoint marks the state before an event is applied.
func (tx *ViewTx) savepoint() {
	tx.undo = tx.undo[:0]
	tx.mark = txCounts{tx.writes, tx.bytes}
}

// rollback takes back every change since the savepoint. Documents read
// since stay cached: they are what the store holds.
func (tx *ViewTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.slab[tx.undo[i].doc] = tx.undo[i].prev
	}
	tx.undo = tx.undo[:0]
	tx.writes, tx.bytes = tx.mark.writes, tx.mark.bytes
}

// overLimits reports whether the run's changes exceed what one commit
// may hold.
func (tx *ViewTx) overLimits() bool {
	return tx.writes > MaxViewWrites || tx.bytes > MaxViewRunBytes
}

// read returns the index in slab of the document (name, key), reading it
// from the store the first time.
func (tx *ViewTx) read(ctx context.Context, name, key string) (int, error) {
	k := viewKey{name, key}
	if i, ok := tx.find(k); ok {
		return i, nil
	}
	if name != tx.validName {
		if err := ValidateName(name); err != nil {
			return 0, err
		}
		tx.validName = name
	}
	if err := ValidateID(key); err != nil {
		return 0, err
	}
	d := txDoc{key: k}
	v, err := tx.store.LoadView(ctx, name, key)
	switch {
	case err == nil:
		d.version, d.data = v.Version, v.Data
	case KindOf(err) == KindNotFound:
	default:
		return 0, storeError("signal.ViewTx.Get", StreamID{}, err)
	}
	tx.slab = append(tx.slab, d)
	switch n := len(tx.slab); {
	case n == scanDocs+1:
		if tx.docs == nil {
			tx.docs = make(map[viewKey]int, 2*scanDocs)
		}
		for i := range tx.slab {
			tx.docs[tx.slab[i].key] = i
		}
	case n > scanDocs+1:
		tx.docs[k] = n - 1
	}
	return len(tx.slab) - 1, nil
}

// scanDocs is how many documents a ViewTx finds by a scan, before it
// indexes them.
const scanDocs = 8

// find returns the index in slab of the document k, if read.
func (tx *ViewTx) find(k viewKey) (int, bool) {
	if len(tx.slab) > scanDocs {
		i, ok := tx.docs[k]
		return i, ok
	}
	for i := range tx.slab {
		if tx.slab[i].key == k {
			return i, true
		}
	}
	return 0, false
}

func (tx *ViewTx) commit(subscriber string, stream StreamID, from, to int64) ViewCommit {
	c := ViewCommit{Subscriber: subscriber, Stream: stream, From: from, To: to}
	if tx.writes > 0 {
		c.Writes = tx.appendWrites(make([]ViewWrite, 0, tx.writes))
	}
	return c
}

// appendWrites appends the run's changed documents to dst.
func (tx *ViewTx) appendWrites(dst []ViewWrite) []ViewWrite {
	for _, d := range tx.slab {
		if d.dirty {
			dst = append(dst, ViewWrite{Name: d.key.name, Key: d.key.key, Data: d.data, ExpectedVersion: d.version})
		}
	}
	return dst
}

// View returns a projection document. ErrInvalid for a bad name or key,
// ErrUnsupported when the store keeps no views (a ViewStore),
// ErrUnauthenticated or ErrForbidden when the Authorize rule refuses,
// ErrNotFound when the document does not exist; a store failure otherwise.
func (s *Service) View(ctx context.Context, name, key string) (View, error) {
	if err := ValidateName(name); err != nil {
		return View{}, err
	}
	if err := ValidateID(key); err != nil {
		return View{}, err
	}
	vs, ok := s.store.(ViewStore)
	if !ok {
		return View{}, Errorf(KindUnsupported, "signal.View", "this service keeps no views")
	}
	stored, err := s.scope(ctx, key)
	if err != nil {
		return View{}, err
	}
	tenant, _ := s.unscope(stored)
	if err := s.authorize(ctx, &Action{Kind: ViewAction, Tenant: tenant, View: name, Key: key}); err != nil {
		return View{}, err
	}
	v, err := vs.LoadView(ctx, name, stored)
	if err != nil {
		if KindOf(err) == KindNotFound {
			return View{}, Errorf(KindNotFound, "signal.View", "no document %q in view %q", key, name)
		}
		return View{}, storeError("signal.View", StreamID{}, err)
	}
	v.Key = key // the caller's, without the tenant
	return v, nil
}

// LoadView returns a projection document decoded into T, with its version.
// Outcomes as Service.View, plus ErrInternal if it does not decode.
func LoadView[T any](ctx context.Context, s *Service, name, key string) (T, int64, error) {
	var doc T
	v, err := s.View(ctx, name, key)
	if err != nil {
		return doc, 0, err
	}
	if err := decodeView(v.Data, &doc); err != nil {
		return doc, 0, &Error{Kind: KindInternal, Op: "signal.View", Message: fmt.Sprintf("view %s/%s does not decode", name, key), Err: err}
	}
	return doc, v.Version, nil
}
