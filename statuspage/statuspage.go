// Package statuspage is the public status page: the catalogue's public
// components with their state, the incidents the team chose to publish
// (only their public title and public updates), and the history of the
// last days, as HTML that needs no JavaScript, JSON and an Atom feed.
// Nothing else of an incident reaches it: no internal title, note,
// label, person or alert.
package statuspage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/incidents"
)

// State is how a component is doing, as customers are told.
type State string

// Component states, from best to worst.
const (
	Operational   State = "operational"
	Degraded      State = "degraded_performance"
	PartialOutage State = "partial_outage"
	MajorOutage   State = "major_outage"
)

var stateRank = map[State]int{Operational: 0, Degraded: 1, PartialOutage: 2, MajorOutage: 3}

// Words says the state in words.
func (s State) Words() string {
	switch s {
	case Degraded:
		return "Degraded performance"
	case PartialOutage:
		return "Partial outage"
	case MajorOutage:
		return "Major outage"
	}
	return "Operational"
}

func worse(a, b State) State {
	if stateRank[b] > stateRank[a] {
		return b
	}
	return a
}

// impact is the state an open incident of severity sev puts its
// component in.
func impact(sev incidents.Severity) State {
	switch sev {
	case incidents.SEV1:
		return MajorOutage
	case incidents.SEV2:
		return PartialOutage
	}
	return Degraded
}

// Options configure the page.
type Options struct {
	Title string
	// HistoryDays is how many days of history are shown (default 90).
	HistoryDays int
	// URL is where the page is published, for the feed's links.
	URL string
	// Key keys the public identifiers of incidents, so that they reveal
	// neither the internal id nor how many incidents there were (the
	// store's identity serves).
	Key string
}

// Page is what a visitor sees.
type Page struct {
	Title      string      `json:"title"`
	Updated    time.Time   `json:"updated"`
	Status     State       `json:"status"`
	Summary    string      `json:"summary"`
	Components []Component `json:"components"`
	Active     []Incident  `json:"active_incidents"`
	Past       []Incident  `json:"past_incidents"`
	// HistoryDays is the span of Past and of each component's days.
	HistoryDays int `json:"history_days"`
}

// Component is one public service.
type Component struct {
	Name  string `json:"name"`
	State State  `json:"state"`
	// Days are the component's worst state per day, oldest first, ending
	// today (UTC).
	Days []Day `json:"days"`
}

// Day is one day of a component's history.
type Day struct {
	Date  string `json:"date"` // 2006-01-02, UTC
	State State  `json:"state"`
}

// Incident is a published incident.
type Incident struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Status     string     `json:"status"` // investigating, monitoring, resolved
	Impact     State      `json:"impact"`
	Components []string   `json:"components,omitempty"`
	Started    time.Time  `json:"started"`
	Resolved   time.Time  `json:"resolved,omitzero"`
	Updated    time.Time  `json:"updated"`
	Updates    []Update   `json:"updates"`
	span       [2]float64 // unix seconds active, for the history
}

// Update is a public update.
type Update struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Text   string    `json:"text"`
}

// publicStatus is an incident status as customers are told it.
func publicStatus(s incidents.Status) string {
	switch s {
	case incidents.StatusMitigated:
		return "monitoring"
	case incidents.StatusResolved:
		return "resolved"
	}
	return "investigating"
}

// publicID is a stable identifier that does not reveal the internal one:
// an HMAC of it under key.
func publicID(key string, id int64) string {
	m := hmac.New(sha256.New, []byte("oncall-status\x00"+key))
	m.Write([]byte(strconv.FormatInt(id, 10)))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Build makes the page from the catalogue and the incidents of the
// history span (and those still open) at now.
func Build(cat catalog.Catalog, incs []incidents.Incident, now time.Time, o Options) Page {
	if o.HistoryDays <= 0 {
		o.HistoryDays = 90
	}
	if o.Title == "" {
		o.Title = "Status"
	}
	now = now.UTC()
	p := Page{Title: o.Title, Updated: now, Status: Operational, HistoryDays: o.HistoryDays}
	public := map[string]string{} // service → public name
	for _, s := range cat.Public() {
		public[s.Name] = s.PublicName
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	from := today.AddDate(0, 0, -(o.HistoryDays - 1))
	byComponent := map[string][]Incident{}
	for _, inc := range incs {
		pi, ok := publish(inc, public, now, o.Key)
		if !ok || (!pi.Resolved.IsZero() && pi.Resolved.Before(from)) {
			continue
		}
		if pi.Resolved.IsZero() {
			p.Active = append(p.Active, pi)
		} else {
			p.Past = append(p.Past, pi)
		}
		for _, c := range pi.Components {
			byComponent[c] = append(byComponent[c], pi)
		}
	}
	for _, s := range cat.Public() {
		c := Component{Name: s.PublicName, State: Operational}
		for _, pi := range byComponent[s.PublicName] {
			if pi.Resolved.IsZero() && pi.Status != "monitoring" {
				c.State = worse(c.State, pi.Impact)
			}
		}
		for d := from; !d.After(today); d = d.AddDate(0, 0, 1) {
			day := Day{Date: d.Format("2006-01-02"), State: Operational}
			lo, hi := float64(d.Unix()), float64(d.AddDate(0, 0, 1).Unix())
			for _, pi := range byComponent[s.PublicName] {
				if pi.span[0] < hi && pi.span[1] > lo {
					day.State = worse(day.State, pi.Impact)
				}
			}
			c.Days = append(c.Days, day)
		}
		p.Status = worse(p.Status, c.State)
		p.Components = append(p.Components, c)
	}
	for _, pi := range p.Active {
		if len(pi.Components) == 0 && pi.Status != "monitoring" {
			p.Status = worse(p.Status, pi.Impact)
		}
	}
	byNewest := func(a, b Incident) int { return b.Started.Compare(a.Started) }
	slices.SortFunc(p.Active, byNewest)
	slices.SortFunc(p.Past, byNewest)
	switch {
	case p.Status == Operational && len(p.Active) > 0:
		p.Summary = "All systems operational; we are monitoring a recent incident"
	case p.Status == Operational:
		p.Summary = "All systems operational"
	default:
		p.Summary = p.Status.Words()
	}
	return p
}

// publish is what the page shows of inc, if anything: only incidents
// with a public update, never drills, and of them only the public title,
// public updates, times and public component names.
func publish(inc incidents.Incident, public map[string]string, now time.Time, key string) (Incident, bool) {
	if inc.Drill || inc.MergedInto != 0 {
		return Incident{}, false
	}
	var ups []Update
	for _, u := range inc.Updates {
		if u.Public {
			ups = append(ups, Update{At: u.At.UTC(), Status: publicStatus(u.Status), Text: u.Text})
		}
	}
	if len(ups) == 0 {
		return Incident{}, false
	}
	slices.SortStableFunc(ups, func(a, b Update) int { return b.At.Compare(a.At) })
	pi := Incident{ID: publicID(key, inc.ID), Status: publicStatus(inc.Status), Impact: impact(inc.Severity),
		Started: inc.OpenedAt.UTC(), Updated: ups[0].At, Updates: ups}
	if name, ok := public[inc.Service]; ok {
		pi.Components = []string{name}
	}
	pi.Title = inc.PublicTitle
	if pi.Title == "" {
		if len(pi.Components) > 0 {
			pi.Title = fmt.Sprintf("%s: %s", pi.Components[0], pi.Impact.Words())
		} else {
			pi.Title = "Service disruption"
		}
	}
	// The impact lasts until the incident is mitigated (from then on it
	// no longer degrades its component) or resolved; an open one's lasts
	// past today.
	end := now.Add(24 * time.Hour)
	if !inc.Open() {
		pi.Resolved = inc.ResolvedAt.UTC()
		end = pi.Resolved
	}
	if !inc.MitigatedAt.IsZero() && inc.MitigatedAt.Before(end) {
		end = inc.MitigatedAt
	}
	pi.span = [2]float64{float64(inc.OpenedAt.Unix()), float64(end.Unix())}
	return pi, true
}
