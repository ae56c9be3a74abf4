package signal

import (
	"context"
	"encoding/json"
	"fmt"
)

// snapshotBody is the encoded form of a snapshot: the state, plus what the
// Service must know beyond it to behave as if it had read every event:
// whether the aggregate is closed, its owner (the Actor of its first
// commit, which a restored aggregate does not read) and its latest
// command ids with their requests' fingerprints.
type snapshotBody struct {
	State  json.RawMessage `json:"state"`
	Closed bool            `json:"closed,omitempty"`
	Owner  string          `json:"owner,omitempty"`
	// Recent holds the command id, fingerprint, first and last version of
	// the latest commits.
	Recent []snapshotCommand `json:"recent,omitempty"`
}

type snapshotCommand struct {
	ID string `json:"id"`
	// Fingerprint is absent for generated ids, and in snapshots written
	// before fingerprints existed (which then match any request).
	Fingerprint string `json:"fp,omitempty"`
	First       int64  `json:"first"`
	Last        int64  `json:"last"`
}

// Snapshot takes a snapshot of an aggregate's current state now, whatever
// the type's SnapshotEvery says. Projectors call it to keep snapshots off
// the command path. ErrUnsupported when the store keeps no snapshots;
// otherwise outcomes as Get.
func (s *Service) Snapshot(ctx context.Context, typ, id string) error {
	if s.snapshots == nil {
		return Errorf(KindUnsupported, "signal.Snapshot", "this service keeps no snapshots")
	}
	t, stream, err := s.resolve(ctx, typ, id)
	if err != nil {
		return err
	}
	e, fresh, err := s.pool.acquire(ctx, stream, func(e *entry) error { return s.load(ctx, t, e) })
	if err != nil {
		return err
	}
	defer e.mu.Unlock()
	if !fresh {
		if err := s.catchUp(ctx, t, e); err != nil {
			return err
		}
	}
	if e.version == 0 {
		return &Error{Kind: KindNotFound, Op: "signal.Snapshot", Stream: stream, Message: fmt.Sprintf("%s %s does not exist", typ, id)}
	}
	return s.writeSnapshot(ctx, t, e)
}

// saveSnapshot writes a snapshot after a command; failures are logged,
// never returned, since the command is already committed.
func (s *Service) saveSnapshot(ctx context.Context, t *typeRuntime, e *entry) {
	if s.snapshots == nil {
		return
	}
	if err := s.writeSnapshot(ctx, t, e); err != nil {
		s.log.WarnContext(ctx, "signal: snapshot not saved", "stream", e.stream.String(), "version", e.version, "error", err)
	}
}

func (s *Service) writeSnapshot(ctx context.Context, t *typeRuntime, e *entry) error {
	state, err := e.h.encode()
	if err != nil {
		return &Error{Kind: KindInternal, Op: "signal.Snapshot", Stream: e.stream, Message: "cannot encode state", Err: err}
	}
	body := snapshotBody{State: state, Closed: e.closed, Owner: e.owner}
	for _, rc := range e.recent.ordered() {
		body.Recent = append(body.Recent, snapshotCommand{rc.id, rc.fingerprint, rc.first, rc.last})
	}
	data, err := json.Marshal(body)
	if err != nil {
		return &Error{Kind: KindInternal, Op: "signal.Snapshot", Stream: e.stream, Err: err}
	}
	if len(data) > MaxCommitBytes {
		return &Error{Kind: KindTooLarge, Op: "signal.Snapshot", Stream: e.stream,
			Message: fmt.Sprintf("snapshot of %d bytes exceeds %d", len(data), MaxCommitBytes)}
	}
	err = s.snapshots.SaveSnapshot(ctx, Snapshot{Stream: e.stream, Version: e.version, SchemaVersion: t.stateVersion, Data: data, Time: s.now().UTC()})
	if err != nil {
		return storeError("signal.Snapshot", e.stream, err)
	}
	return nil
}

// restore sets an entry from a snapshot.
func (s *Service) restore(e *entry, snap *Snapshot) error {
	var body snapshotBody
	if err := json.Unmarshal(snap.Data, &body); err != nil {
		return err
	}
	if err := e.h.decode(body.State); err != nil {
		return err
	}
	e.version, e.closed, e.owner = snap.Version, body.Closed, body.Owner
	e.recent = recentCommands{}
	for _, rc := range body.Recent {
		e.recent.add(s.window, rc.ID, rc.Fingerprint, rc.First, rc.Last)
	}
	return nil
}
