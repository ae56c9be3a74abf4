package signal

import "slices"

// grouping splits a batch of commits by stream. Its memory is reused from
// batch to batch (the dispatcher pools it): a page of 200 streams would
// otherwise grow a map and four slices every time.
type grouping struct {
	index map[StreamID]int32
	part  []int32 // each commit's part
	sizes []int32
	parts [][]*Commit
	all   []*Commit
	// events and spans are a batched run's decoded events (batchrun.go).
	events []Event
	spans  []span
}

// byStream splits commits into their streams' commits, in the order each
// stream first appears (the order of DispatchError.Failures). The parts
// are commits itself when it holds one stream, else slices of g's memory,
// valid until g.clear.
func (g *grouping) byStream(commits []*Commit) [][]*Commit {
	if len(commits) == 0 {
		return nil
	}
	if !slices.ContainsFunc(commits, func(c *Commit) bool { return c.Stream != commits[0].Stream }) {
		g.parts = append(g.parts[:0], commits)
		return g.parts
	}
	if g.index == nil {
		g.index = make(map[StreamID]int32, len(commits))
	}
	g.part, g.sizes = slices.Grow(g.part[:0], len(commits))[:len(commits)], g.sizes[:0]
	for i, c := range commits {
		p, ok := g.index[c.Stream]
		if !ok {
			p = int32(len(g.sizes))
			g.index[c.Stream] = p
			g.sizes = append(g.sizes, 0)
		}
		g.part[i] = p
		g.sizes[p]++
	}
	g.all = slices.Grow(g.all[:0], len(commits))[:len(commits)]
	g.parts = slices.Grow(g.parts[:0], len(g.sizes))
	off := 0
	for _, n := range g.sizes {
		g.parts = append(g.parts, g.all[off:off:off+int(n)])
		off += int(n)
	}
	for i, c := range commits {
		g.parts[g.part[i]] = append(g.parts[g.part[i]], c)
	}
	return g.parts
}

// clear forgets the last batch, so that g keeps no commit alive.
func (g *grouping) clear() {
	clear(g.index)
	clear(g.parts)
	clear(g.all)
	clear(g.spans)
	g.parts, g.all, g.spans = g.parts[:0], g.all[:0], g.spans[:0]
	if cap(g.events) > maxScratchEvents {
		g.events = nil // a long batch's buffer is not kept for the short ones
	}
}
