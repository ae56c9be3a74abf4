package signal_test

import (
	"errors"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// The tab domain of the tests of the typed API's marks and of Initial(id):
// a bar tab that knows its id only from Initial, a genesis command for
// guests and an internal genesis command for the house, an internal
// command, a terminal event of its own and an End rule with another.

type Tab struct {
	// ID comes from Initial(id) and is never stored (not in snapshots
	// either), so a state has it only if Initial was given the id.
	ID    string `json:"-"`
	Guest string `json:"guest"`
	Total int64  `json:"total"`
}

type OpenTab struct {
	Guest string `json:"guest"`
}

// OpenHouseTab is a genesis command only the service sends.
type OpenHouseTab struct {
	Guest string `json:"guest"`
}
type AddDrink struct {
	Price int64 `json:"price"`
}

// Comp takes an amount off the tab: internal, never from HTTP.
type Comp struct {
	Amount int64 `json:"amount"`
}
type Settle struct{}

// TabOpened and DrinkAdded record in Tab the id the state had when the
// command was decided.
type TabOpened struct {
	Tab   string `json:"tab"`
	Guest string `json:"guest"`
}
type DrinkAdded struct {
	Tab   string `json:"tab"`
	Price int64  `json:"price"`
}
type Comped struct {
	Amount int64 `json:"amount"`
}
type TabSettled struct {
	Total int64 `json:"total"`
}
type TabVoided struct{}

var errTabNotEmpty = errors.New("a tab with drinks on it cannot be voided")

func tabSpec() signal.Spec[Tab] {
	return signal.Spec[Tab]{
		Name:    "tab",
		Initial: func(id string) Tab { return Tab{ID: id} },
		Commands: []signal.CommandSpec[Tab]{
			signal.Decide("OpenTab", openTab, signal.Genesis),
			signal.Decide("OpenHouseTab", openHouseTab, signal.Genesis, signal.Internal),
			signal.Decide("AddDrink", addDrink),
			signal.Decide("Comp", comp, signal.Internal),
			signal.Decide("Settle", settle),
		},
		Events: []signal.EventSpec[Tab]{
			signal.Evolve("TabOpened", tabOpened),
			signal.Evolve("DrinkAdded", drinkAdded),
			signal.Evolve("Comped", comped),
			signal.Evolve("TabSettled", tabSettled, signal.Terminal),
			signal.Evolve("TabVoided", tabVoided, signal.Terminal),
		},
		End: signal.EndWith(voidTab),
	}
}

func openTab(s Tab, c OpenTab) ([]any, error) {
	if s.Guest != "" {
		return nil, errors.New("the tab is already open")
	}
	return []any{TabOpened{Tab: s.ID, Guest: c.Guest}}, nil
}

func openHouseTab(s Tab, c OpenHouseTab) ([]any, error) { return openTab(s, OpenTab(c)) }

func addDrink(s Tab, c AddDrink) ([]any, error) {
	if c.Price <= 0 {
		return nil, errors.New("price must be positive")
	}
	return []any{DrinkAdded{Tab: s.ID, Price: c.Price}}, nil
}

func comp(s Tab, c Comp) ([]any, error) {
	if c.Amount <= 0 || c.Amount > s.Total {
		return nil, errors.New("comp must be positive and at most the total")
	}
	return []any{Comped(c)}, nil
}

func settle(s Tab, _ Settle) ([]any, error) { return []any{TabSettled{Total: s.Total}}, nil }

func voidTab(s Tab) (TabVoided, error) {
	if s.Total != 0 {
		return TabVoided{}, errTabNotEmpty
	}
	return TabVoided{}, nil
}

func tabOpened(s Tab, e TabOpened) Tab {
	s.Guest = e.Guest
	return s
}

func drinkAdded(s Tab, e DrinkAdded) Tab {
	s.Total += e.Price
	return s
}

func comped(s Tab, e Comped) Tab {
	s.Total -= e.Amount
	return s
}

func tabSettled(s Tab, _ TabSettled) Tab { return s }
func tabVoided(s Tab, _ TabVoided) Tab   { return s }

type tabFixture = fixtureOf[Tab]

func newTabFixture(t testing.TB, mutate ...func(*signal.Spec[Tab], *signal.Config)) *tabFixture {
	t.Helper()
	return newFixtureOf(t, tabSpec(), mutate...)
}
