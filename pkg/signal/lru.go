package signal

// lru orders the pooled entries by last use, through links in the entries
// themselves: a pooled aggregate costs no list element of its own.
// Guarded by pool.mu.
type lru struct {
	front, back *entry // the most and the least recently used
	n           int
}

// pushFront adds e, not in the list, as the most recently used.
func (l *lru) pushFront(e *entry) {
	e.newer, e.older = nil, l.front
	if l.front != nil {
		l.front.newer = e
	} else {
		l.back = e
	}
	l.front = e
	l.n++
}

// remove takes e, in the list, out of it.
func (l *lru) remove(e *entry) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		l.front = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		l.back = e.newer
	}
	e.newer, e.older = nil, nil
	l.n--
}

// moveToFront makes e, in the list, the most recently used.
func (l *lru) moveToFront(e *entry) {
	if l.front == e {
		return
	}
	l.remove(e)
	l.pushFront(e)
}
