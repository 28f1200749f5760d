// Package msg holds the messages the console's panes and its root model
// exchange. Panes never call the server: they ask the root with a request
// message (acknowledge, silence, run a query) and get an answer message
// back, so each pane is tested by feeding it messages.
package msg

import (
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/tui/state"
)

// Changed tells panes that parts of the state changed.
type Changed struct{ Kinds state.Kind }

// Tick is the clock of countdowns and "5s ago"s, once a second.
type Tick struct{ Now time.Time }

// Open asks a pane to show something: an incident by id, an alert by
// fingerprint, a filter, a query. The root focuses the pane first.
type Open struct {
	// Pane is the pane's name as the palette spells it ("alerts").
	Pane string
	// Arg is what to open: an id, a filter, a PromQL expression.
	Arg string
}

// Status is a line for the footer; Err colours it as a failure.
type Status struct {
	Text string
	Err  bool
}

// Ack asks to acknowledge an incident.
type Ack struct{ Incident int64 }

// Resolve asks to resolve an incident (the pane has confirmed with the
// user).
type Resolve struct{ Incident int64 }

// Act asks for an action on an incident: escalate, mitigate, note (Text),
// assign (Role, to the console's user).
type Act struct {
	Incident int64
	Action   string
	Text     string
	Role     string
}

// Silence asks to silence exactly this alert for a while.
type Silence struct {
	Alert alerts.Alert
	For   time.Duration
}

// RangeQuery asks for a PromQL expression over [Start, End]; ID names
// the asker, which gets a RangeResult with the same ID.
type RangeQuery struct {
	ID         string
	Expr       string
	Start, End time.Time
	Step       time.Duration
}

// RangeResult answers a RangeQuery.
type RangeResult struct {
	ID     string
	Expr   string
	Series []metrics.Series
	Err    error
	// Start and End are the range asked for.
	Start, End time.Time
}

// InstantQuery asks for a PromQL expression at an instant (zero: now).
type InstantQuery struct {
	ID   string
	Expr string
	At   time.Time
}

// InstantResult answers an InstantQuery.
type InstantResult struct {
	ID     string
	Expr   string
	Result metrics.Result
	Err    error
}

// HistoryQuery asks for the state changes of the alerts named Alert since
// Since; ID names the asker, which gets a HistoryResult with the same ID.
type HistoryQuery struct {
	ID    string
	Alert string
	Since time.Time
}

// HistoryResult answers a HistoryQuery, oldest first.
type HistoryResult struct {
	ID          string
	Transitions []alerts.Transition
	Err         error
}
