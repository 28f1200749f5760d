package probe

import (
	"context"
	"fmt"
	"time"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/incidents"
)

// IncidentLister lists the incidents active at some time since since
// (the store, or a server's API).
type IncidentLister interface {
	IncidentsSince(ctx context.Context, since time.Time) ([]incidents.Incident, error)
}

// Drill proves "simulated failures": a drill incident for the service was
// opened within the last params.days (default 90).
type Drill struct {
	Incidents IncidentLister
}

// Probe implements checklist.Prober.
func (p Drill) Probe(ctx context.Context, t checklist.Target) checklist.Result {
	window, err := durationParam(t.Check, "days", 90*24*time.Hour)
	if err != nil {
		return errorResult("%v", err)
	}
	if p.Incidents == nil {
		return errorResult("no incident store to look for drills in")
	}
	since := t.Now.Add(-window)
	list, err := p.Incidents.IncidentsSince(ctx, since)
	if err != nil {
		return errorResult("could not list incidents: %v", err)
	}
	var last *incidents.Incident
	for i, inc := range list {
		if inc.Drill && inc.Service == t.Service.Name && !inc.OpenedAt.Before(since) && !inc.OpenedAt.After(t.Now) &&
			(last == nil || inc.OpenedAt.After(last.OpenedAt)) {
			last = &list[i]
		}
	}
	if last == nil {
		return checklist.Result{Status: checklist.Fail,
			Summary: fmt.Sprintf("no drill for %s in the last %s (oncall incident declare --drill --service %s)", t.Service.Name, days(window), t.Service.Name)}
	}
	by := last.DeclaredBy
	if by == "" {
		by = "oncall"
	}
	age := int(t.Now.Sub(last.OpenedAt) / (24 * time.Hour))
	return checklist.Result{Status: checklist.Pass,
		Summary: fmt.Sprintf("%s %q, a drill declared by %s on %s (%s ago)", last.Ref(), last.Title, by, last.OpenedAt.UTC().Format("2006-01-02"), plural(age, "day", "days"))}
}
