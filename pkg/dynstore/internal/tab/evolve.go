package tab

import "maps"

// The event handlers fold one event into a copy of s and never write to
// s.Items (a pooled state may be shared). They are total: an event that
// could not have been decided changes as little as it can.

func itemOrdered(s Tab, e ItemOrdered) Tab {
	items := cloneItems(s.Items)
	l := items[e.Item]
	l.Quantity += e.Quantity
	l.Price = e.Price
	items[e.Item] = l
	s.Items = items
	s.Total += e.Quantity * e.Price
	return s
}

func itemCancelled(s Tab, e ItemCancelled) Tab {
	l, ok := s.Items[e.Item]
	if !ok {
		return s
	}
	items := cloneItems(s.Items)
	n := min(e.Quantity, l.Quantity)
	if l.Quantity -= n; l.Quantity == 0 {
		delete(items, e.Item)
	} else {
		items[e.Item] = l
	}
	s.Items = items
	s.Total -= n * l.Price
	return s
}

func tabPaid(s Tab, _ TabPaid) Tab {
	s.Status = StatusPaid
	return s
}

func tabVoided(s Tab, _ TabVoided) Tab {
	s.Status = StatusVoided
	return s
}

func cloneItems(m map[string]Line) map[string]Line {
	out := make(map[string]Line, len(m)+1)
	maps.Copy(out, m)
	return out
}
