package review

// Signal quality: the noisiest alerts, pages that needed no action,
// repeat incidents, and incidents no alert caught.

import (
	"cmp"
	"slices"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
)

// Signal is how well alerts told real problems.
type Signal struct {
	Noisiest []AlertNoise `json:"noisiest"`
	// NoAction are incidents that paged and needed nothing done.
	NoAction []IncidentNote `json:"no_action"`
	Repeats  []Repeat       `json:"repeats"`
	// Uncaught are incidents declared by hand that no alert caught: each
	// is a missing alert.
	Uncaught []IncidentNote `json:"uncaught"`
}

// AlertNoise is how often an alert fired in the week.
type AlertNoise struct {
	Alert   string `json:"alert"`
	Firings int    `json:"firings"`
	Series  int    `json:"series"`
	// MedianFiring is the median time firing of the firings that ended;
	// Ended counts them, Short those under five minutes.
	MedianFiring Dur `json:"median_firing"`
	Ended        int `json:"ended"`
	Short        int `json:"short"`
}

// IncidentNote is an incident and why it is listed.
type IncidentNote struct {
	Ref   string `json:"ref"`
	Title string `json:"title"`
	Why   string `json:"why"`
}

// Repeat is a service or alert with more than one incident in the weeks
// reviewed, one of them this week.
type Repeat struct {
	Kind      string   `json:"kind"` // service or alert
	Name      string   `json:"name"`
	Incidents []string `json:"incidents"`
}

// noisiest ranks the alerts by how often they began firing in [from, to).
func noisiest(trs []alerts.Transition, from, to time.Time) []AlertNoise {
	type acc struct {
		AlertNoise
		series map[uint64]bool
		durs   []time.Duration
	}
	by := map[string]*acc{}
	firingSince := map[uint64]time.Time{}
	for _, t := range trs {
		fp := t.Fingerprint
		if fp == 0 {
			fp = alerts.Fingerprint(t.Labels)
		}
		switch t.State {
		case alerts.StateFiring:
			firingSince[fp] = t.At
			if t.At.Before(from) || !t.At.Before(to) {
				continue
			}
			a, ok := by[t.Name()]
			if !ok {
				a = &acc{AlertNoise: AlertNoise{Alert: t.Name()}, series: map[uint64]bool{}}
				by[t.Name()] = a
			}
			a.Firings++
			a.series[fp] = true
		case alerts.StateResolved:
			began, ok := firingSince[fp]
			delete(firingSince, fp)
			if a := by[t.Name()]; ok && a != nil && !began.Before(from) {
				a.durs = append(a.durs, t.At.Sub(began))
			}
		}
	}
	out := []AlertNoise{}
	for _, a := range by {
		a.Series, a.Ended = len(a.series), len(a.durs)
		if len(a.durs) > 0 {
			a.MedianFiring = Dur(medianDur(a.durs))
		}
		for _, d := range a.durs {
			if d < shortFiring {
				a.Short++
			}
		}
		out = append(out, a.AlertNoise)
	}
	slices.SortFunc(out, func(a, b AlertNoise) int {
		return cmp.Or(cmp.Compare(b.Firings, a.Firings), cmp.Compare(a.Alert, b.Alert))
	})
	if len(out) > maxNoisy {
		out = out[:maxNoisy]
	}
	return out
}

// noAction are the week's resolved incidents whose timeline holds nothing
// but being paged, acknowledged and resolved.
func noAction(week []incidents.Incident) []IncidentNote {
	out := []IncidentNote{}
	for _, i := range week {
		if i.Drill || i.Open() || i.DeclaredBy != "" {
			continue
		}
		acked, byAlerts, acted := false, false, false
		for _, e := range i.Timeline {
			switch {
			case !passive[e.Kind]:
				acted = true
			case e.Kind == "acknowledged":
				acked = true
			case e.Kind == "resolved" && e.Source == "alerts":
				byAlerts = true
			}
		}
		switch {
		case acted:
		case acked:
			out = append(out, IncidentNote{Ref: i.Ref(), Title: i.Title, Why: "acknowledged and resolved with nothing else done"})
		case byAlerts:
			out = append(out, IncidentNote{Ref: i.Ref(), Title: i.Title, Why: "resolved on its own before anyone acknowledged"})
		}
	}
	return out
}

// alertOf names the alert that opened an incident: the alertname of its
// group, else its title; "" when declared by hand.
func alertOf(i incidents.Incident) string {
	if i.Key == "" {
		return ""
	}
	if m := alertnameRE.FindStringSubmatch(i.Key); m != nil {
		return m[1]
	}
	return i.Title
}

// repeats are the services and alerts with more than one incident in the
// weeks read, at least one of them this week.
func repeats(all, week []incidents.Incident) []Repeat {
	thisWeek := map[int64]bool{}
	for _, i := range week {
		thisWeek[i.ID] = true
	}
	type key struct{ kind, name string }
	by := map[key][]incidents.Incident{}
	var order []key
	for _, i := range all {
		if i.Drill {
			continue
		}
		for _, k := range []key{{"service", i.Service}, {"alert", alertOf(i)}} {
			if k.name == "" {
				continue
			}
			if _, ok := by[k]; !ok {
				order = append(order, k)
			}
			by[k] = append(by[k], i)
		}
	}
	out := []Repeat{}
	for _, k := range order {
		is := by[k]
		if len(is) < 2 || !slices.ContainsFunc(is, func(i incidents.Incident) bool { return thisWeek[i.ID] }) {
			continue
		}
		rp := Repeat{Kind: k.kind, Name: k.name}
		for _, i := range is {
			rp.Incidents = append(rp.Incidents, i.Ref())
		}
		out = append(out, rp)
	}
	slices.SortStableFunc(out, func(a, b Repeat) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name)) })
	return out
}

// uncaught are the week's incidents declared by hand with no alert of
// their service beginning to fire in the hour before.
func uncaught(week []incidents.Incident, trs []alerts.Transition) []IncidentNote {
	out := []IncidentNote{}
	for _, i := range week {
		if i.DeclaredBy == "" || i.Drill {
			continue
		}
		caught := false
		for _, t := range trs {
			// An alert that began firing on the service in the hour
			// before caught it; one firing for long before did not tell
			// anyone about this.
			if i.Service != "" && t.State == alerts.StateFiring && t.Labels.Get("service") == i.Service &&
				!t.At.After(i.OpenedAt) && i.OpenedAt.Sub(t.At) <= caughtWithin {
				caught = true
				break
			}
		}
		if caught {
			continue
		}
		why := "declared by " + i.DeclaredBy + "; no alert fired"
		if i.Service != "" {
			why += " on " + i.Service
		}
		out = append(out, IncidentNote{Ref: i.Ref(), Title: i.Title, Why: why + " in the hour before: a missing alert"})
	}
	return out
}
