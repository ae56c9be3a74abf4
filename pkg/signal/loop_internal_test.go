package signal

import "testing"

// The loop's decisions are pure functions of the state and the command;
// these tables pin them, the service tests their effect.

func TestStateRefusal(t *testing.T) {
	stream := StreamID{"account", "a1"}
	plain := commandOptions{ifVersion: -1}
	create := commandOptions{ifVersion: -1, create: true}
	at := func(v int64) commandOptions { return commandOptions{ifVersion: v} }
	for _, c := range []struct {
		name    string
		version int64
		closed  bool
		o       commandOptions
		genesis bool
		want    Kind
		ok      bool
	}{
		{"command on an aggregate", 3, false, plain, false, 0, true},
		{"genesis on nothing", 0, false, plain, true, 0, true},
		{"genesis on an aggregate", 3, false, plain, true, 0, true},
		{"create on nothing", 0, false, create, false, 0, true},
		{"command on nothing", 0, false, plain, false, KindNotFound, false},
		{"create on an aggregate", 3, false, create, true, KindExists, false},
		{"closed before exists", 3, true, create, true, KindClosed, false},
		{"closed before the version", 3, true, at(2), false, KindClosed, false},
		{"exists before the version", 3, false, commandOptions{ifVersion: 2, create: true}, false, KindExists, false},
		{"not found before the version", 0, false, at(2), false, KindNotFound, false},
		{"the version", 3, false, at(3), false, 0, true},
		{"another version", 3, false, at(2), false, KindPrecondition, false},
		{"version 0 on nothing", 0, false, at(0), true, 0, true},
		{"version 0 on an aggregate", 1, false, at(0), true, KindPrecondition, false},
	} {
		err := stateRefusal(stream, c.version, c.closed, &c.o, c.genesis)
		if c.ok {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			}
			continue
		}
		if KindOf(err) != c.want || err.(*Error).Stream != stream {
			t.Errorf("%s: %v, want %v on %v", c.name, err, c.want, stream)
		}
	}
}

func TestPlanConflict(t *testing.T) {
	next := &Commit{Version: 6}
	later := &Commit{Version: 8}
	for _, c := range []struct {
		name     string
		attempt  int
		existing *Commit
		want     conflictPlan
	}{
		{"the winner returned", 0, next, conflictPlan{fold: true}},
		{"no winner returned", 0, nil, conflictPlan{catchUp: true}},
		{"a winner further ahead", 1, later, conflictPlan{}},
		{"every fourth retry reads", 3, next, conflictPlan{fold: true, catchUp: true}},
		{"and not the fifth", 4, next, conflictPlan{fold: true}},
		{"the last retry", 7, next, conflictPlan{fold: true, catchUp: true}},
		{"the retries spent", 8, next, conflictPlan{giveUp: true}},
	} {
		if got := planConflict(c.attempt, 8, c.existing, 5); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	if got := planConflict(0, -1, next, 5); !got.giveUp {
		t.Errorf("no retries allowed: %+v", got)
	}
}
