// Package state is what the console knows of the server: the alerts, their
// groups, open incidents, who is on call, pages, readiness and rules as the
// server last pushed them, and whether the connection holds. Panes read it;
// only the root model changes it, one pushed update at a time.
package state

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/tui/theme"
)

// Update is one push from the server: the parts that changed (a nil field
// did not), or a batch of log lines.
type Update struct {
	Alerts    *[]alerts.Alert
	Groups    *[]Group
	Incidents *[]incidents.Incident
	OnCall    *[]schedule.Assignment
	Pages     *[]incidents.Page
	Ready     *health.Report
	Rules     *[]alerts.Rule
	Services  *[]catalog.Service
	// At is the server's time of the state.
	At   time.Time
	Logs []logs.Entry
}

// Group is a dispatch group: the alerts of one receiver that notify
// together, by fingerprint.
type Group struct {
	Receiver     string
	Key          string
	Labels       labels.Labels
	Fingerprints []uint64
}

// Kind is a set of the parts of the state, to say what changed.
type Kind uint16

// The parts of the state.
const (
	KindAlerts Kind = 1 << iota
	KindGroups
	KindIncidents
	KindOnCall
	KindPages
	KindReady
	KindRules
	KindLogs
	// KindCatalog is the service catalogue.
	KindCatalog
	// KindConn is the connection to the server.
	KindConn
)

// State is the console's copy of the server's state.
type State struct {
	// Alerts are firing first, then pending, then resolved; the newest
	// first within each.
	Alerts []alerts.Alert
	// Fingerprints[i] is Alerts[i]'s, worked out once.
	Fingerprints []uint64
	Groups       []Group
	Incidents    []incidents.Incident
	OnCall       []schedule.Assignment
	Pages        []incidents.Page
	Rules        []alerts.Rule
	// Catalog is the service catalogue, in its order.
	Catalog []catalog.Service
	// Ready is the server's readiness (nil until it said).
	Ready *health.Report
	// At is the server time of the last state; zero until it answered.
	At time.Time

	// Connected says whether the stream holds; Since is when that last
	// changed (local time) and Err why it broke.
	Connected bool
	Since     time.Time
	Err       error

	byFP     map[uint64]int
	services []Service
}

// Apply merges an update and says what changed; the state takes the
// update's slices as they are (it sorts the alerts in place). Log lines
// are not kept
// here (the log pane holds its own buffer); a batch of them is reported
// as KindLogs.
func (s *State) Apply(u Update) Kind {
	var k Kind
	if u.Alerts != nil {
		s.Alerts = *u.Alerts
		sortAlerts(s.Alerts)
		s.byFP = make(map[uint64]int, len(s.Alerts))
		s.Fingerprints = make([]uint64, len(s.Alerts))
		for i := range s.Alerts {
			fp := s.Alerts[i].Fingerprint()
			s.Fingerprints[i], s.byFP[fp] = fp, i
		}
		k |= KindAlerts
	}
	if u.Groups != nil {
		s.Groups, k = *u.Groups, k|KindGroups
	}
	if u.Incidents != nil {
		s.Incidents, k = *u.Incidents, k|KindIncidents
	}
	if u.OnCall != nil {
		s.OnCall, k = *u.OnCall, k|KindOnCall
	}
	if u.Pages != nil {
		s.Pages, k = *u.Pages, k|KindPages
	}
	if u.Ready != nil {
		r := *u.Ready
		s.Ready, k = &r, k|KindReady
	}
	if u.Rules != nil {
		s.Rules, k = *u.Rules, k|KindRules
	}
	if u.Services != nil {
		s.Catalog, k = *u.Services, k|KindCatalog
	}
	if !u.At.IsZero() {
		s.At = u.At
	}
	if len(u.Logs) > 0 {
		k |= KindLogs
	}
	if k&(KindAlerts|KindIncidents|KindRules|KindCatalog) != 0 {
		s.services = nil
	}
	return k
}

// Connect records that the stream holds from now on.
func (s *State) Connect(now time.Time) Kind {
	if s.Connected {
		return 0
	}
	s.Connected, s.Since, s.Err = true, now, nil
	return KindConn
}

// Disconnect records that the stream broke, keeping when it first did.
func (s *State) Disconnect(now time.Time, err error) Kind {
	if s.Connected || s.Since.IsZero() {
		s.Since = now
	}
	s.Connected, s.Err = false, err
	return KindConn
}

// Known reports whether the server ever answered: until then the panes
// know nothing and must not claim calm.
func (s *State) Known() bool { return !s.At.IsZero() }

// Stale reports whether what is shown is the last known state of a server
// that no longer answers.
func (s *State) Stale() bool { return s.Known() && !s.Connected }

// Counts returns how many alerts fire (unmuted), fire but are muted by a
// silence or an inhibition, and are pending.
func (s *State) Counts() (firing, muted, pending int) {
	for i := range s.Alerts {
		st := &s.Alerts[i].Status
		switch {
		case st.State == alerts.StateFiring && st.Suppressed():
			muted++
		case st.State == alerts.StateFiring:
			firing++
		case st.State == alerts.StatePending:
			pending++
		}
	}
	return firing, muted, pending
}

// Alert returns the alert with that fingerprint.
func (s *State) Alert(fp uint64) (*alerts.Alert, bool) {
	i, ok := s.byFP[fp]
	if !ok {
		return nil, false
	}
	return &s.Alerts[i], true
}

// Incident returns the open incident with that id.
func (s *State) Incident(id int64) (*incidents.Incident, bool) {
	for i := range s.Incidents {
		if s.Incidents[i].ID == id {
			return &s.Incidents[i], true
		}
	}
	return nil, false
}

// RuleOf returns the rule an alert comes from: same alert name, and every
// label the rule sets is on the alert.
func (s *State) RuleOf(a *alerts.Alert) (alerts.Rule, bool) {
	for _, r := range s.Rules {
		if r.Name != a.Name() {
			continue
		}
		ok := true
		for k, v := range r.Labels {
			if a.Labels.Get(k) != v && !isTemplate(v) {
				ok = false
				break
			}
		}
		if ok {
			return r, true
		}
	}
	return alerts.Rule{}, false
}

func isTemplate(v string) bool { return slices.Contains([]byte(v), '{') }

// Service is one service as the alerts, rules and incidents name it.
type Service struct {
	Name string
	// Team and Tier are the catalogue's (empty, 0 for a service only
	// alerts name).
	Team                   string
	Tier                   int
	Firing, Muted, Pending int
	Worst                  string // the highest severity firing
	Incident               *incidents.Incident
	Rules                  []alerts.Rule
	LastChange             time.Time
}

// Services lists the catalogue's services and those named by a service
// label on the rules, the alerts and the incidents: the ones in trouble
// first, then the most critical tier, then by name.
func (s *State) Services() []Service {
	if s.services != nil {
		return s.services
	}
	by := map[string]*Service{}
	get := func(name string) *Service {
		if name == "" {
			name = "(no service)"
		}
		if sv, ok := by[name]; ok {
			return sv
		}
		sv := &Service{Name: name}
		by[name] = sv
		return sv
	}
	for _, c := range s.Catalog {
		sv := get(c.Name)
		sv.Team, sv.Tier = c.Team, c.Tier
	}
	for _, r := range s.Rules {
		// A rule without a service label names its services only in the
		// series it returns (sum by (service) …).
		if name := r.Labels["service"]; name != "" {
			sv := get(name)
			sv.Rules = append(sv.Rules, r)
		}
	}
	for i := range s.Alerts {
		a := &s.Alerts[i]
		sv := get(a.Labels.Get("service"))
		switch st := a.Status; {
		case st.State == alerts.StateFiring && st.Suppressed():
			sv.Muted++
		case st.State == alerts.StateFiring:
			sv.Firing++
			if SeverityRank(a.Severity()) > SeverityRank(sv.Worst) {
				sv.Worst = a.Severity()
			}
		case st.State == alerts.StatePending:
			sv.Pending++
		}
		if a.StartsAt.After(sv.LastChange) {
			sv.LastChange = a.StartsAt
		}
	}
	for i := range s.Incidents {
		inc := &s.Incidents[i]
		sv := get(inc.Service)
		if sv.Incident == nil {
			sv.Incident = inc
		}
	}
	out := make([]Service, 0, len(by))
	for _, sv := range by {
		out = append(out, *sv)
	}
	slices.SortFunc(out, func(a, b Service) int {
		return cmp.Or(
			cmp.Compare(b.trouble(), a.trouble()),
			cmp.Compare(tierRank(a.Tier), tierRank(b.Tier)),
			cmp.Compare(a.Name, b.Name))
	})
	s.services = out
	return out
}

// tierRank puts tier 1 first and services without a tier last.
func tierRank(t int) int {
	if t == 0 {
		return 99
	}
	return t
}

// trouble orders services: an open incident, then firing (the most
// severe first), then muted, then pending.
func (sv Service) trouble() int {
	t := 0
	if sv.Incident != nil {
		t += 1_000_000
	}
	return t + sv.Firing*1000 + SeverityRank(sv.Worst)*100 + min(sv.Muted, 9)*10 + min(sv.Pending, 9)
}

// SeverityRank orders the usual severity names, the most urgent highest
// (critical and page 4, warning and ticket 2, unknown 0).
func SeverityRank(s string) int {
	switch strings.ToLower(s) {
	case "critical", "page", "sev1", "p1":
		return 4
	case "error", "high", "sev2", "p2":
		return 3
	case "warning", "ticket", "warn", "sev3", "p3":
		return 2
	case "info", "low", "sev4", "p4":
		return 1
	}
	return 0
}

// sortAlerts puts firing first, then pending, then resolved; newest first
// within each.
func sortAlerts(as []alerts.Alert) {
	slices.SortStableFunc(as, func(a, b alerts.Alert) int {
		return cmp.Or(cmp.Compare(b.Status.State, a.Status.State), b.StartsAt.Compare(a.StartsAt))
	})
}

// Env is what every pane reads: the state, the theme, the clock, who the
// user is and whether the console may change anything.
type Env struct {
	State    *State
	Theme    *theme.Theme
	Now      func() time.Time
	User     string
	ReadOnly bool
}
