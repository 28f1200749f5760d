package statuspage

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/internal/golden"
)

// now is the fixed clock of these tests: Monday 23 November 2026, 10:05 UTC.
var now = time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)

// cat has two public components and one internal service.
var cat = catalog.Catalog{Services: []catalog.Service{
	{Name: "checkout", PublicName: "Checkout", Policy: "default"},
	{Name: "search", PublicName: "Search"},
	{Name: "billing-batch"},
}}

// at is a time on the fixed clock's calendar: at(21, 14, 30) is 21
// November 2026, 14:30 UTC.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC)
}

var responder = incidents.Actor{Name: "responder", Source: "cli"}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// declared is an open incident on service, declared at opened, with a
// public update a minute later for each text.
func declared(t *testing.T, id int64, service string, sev incidents.Severity, opened time.Time, public ...string) incidents.Incident {
	t.Helper()
	inc := incidents.Incident{ID: id, Title: "internal title", Service: service, Severity: sev, Status: incidents.StatusTriggered,
		DeclaredBy: responder.Name, OpenedAt: opened}
	for i, text := range public {
		must(t, inc.PostUpdate(text, true, "", responder, opened.Add(time.Duration(i+1)*time.Minute)))
	}
	return inc
}

func mitigated(t *testing.T, inc incidents.Incident, when time.Time) incidents.Incident {
	t.Helper()
	must(t, inc.Mitigate(responder, "", when))
	return inc
}

func resolved(t *testing.T, inc incidents.Incident, when time.Time) incidents.Incident {
	t.Helper()
	must(t, inc.Resolve(responder, "", when))
	return inc
}

func componentState(p Page, name string) State {
	for _, c := range p.Components {
		if c.Name == name {
			return c.State
		}
	}
	return "absent"
}

// Open incidents with a public update set their component's state by
// severity; a mitigated one is "monitoring" and degrades nothing; drills,
// merged incidents and incidents without a public update are not there.
func TestBuildComponentStates(t *testing.T) {
	opened := now.Add(-time.Hour)
	pub := func(id int64, service string, sev incidents.Severity) incidents.Incident {
		return declared(t, id, service, sev, opened.Add(time.Duration(id)*time.Minute), "We are looking into it.")
	}
	acked := pub(1, "checkout", incidents.SEV2)
	must(t, acked.Acknowledge(incidents.Settings{}, responder, now.Add(-time.Minute)))
	drill := pub(1, "checkout", incidents.SEV1)
	drill.Drill = true
	merged := pub(1, "checkout", incidents.SEV1)
	merged.MergedInto, merged.Status, merged.ResolvedAt = 2, incidents.StatusResolved, now.Add(-time.Minute)
	internalOnly := declared(t, 1, "checkout", incidents.SEV1, opened)
	must(t, internalOnly.PostUpdate("internal only", false, "not a public title", responder, opened.Add(time.Minute)))
	silent := declared(t, 1, "checkout", incidents.SEV1, opened)

	for _, tc := range []struct {
		name             string
		incs             []incidents.Incident
		checkout, search State
		status           State
		summary          string
		active, past     []string // the incidents' public statuses
	}{
		{name: "no incidents", checkout: Operational, search: Operational, status: Operational, summary: "All systems operational"},
		{name: "SEV1 is a major outage", incs: []incidents.Incident{pub(1, "checkout", incidents.SEV1)},
			checkout: MajorOutage, search: Operational, status: MajorOutage, summary: "Major outage", active: []string{"investigating"}},
		{name: "SEV2 is a partial outage", incs: []incidents.Incident{pub(1, "checkout", incidents.SEV2)},
			checkout: PartialOutage, search: Operational, status: PartialOutage, summary: "Partial outage", active: []string{"investigating"}},
		{name: "SEV3 is degraded performance", incs: []incidents.Incident{pub(1, "search", incidents.SEV3)},
			checkout: Operational, search: Degraded, status: Degraded, summary: "Degraded performance", active: []string{"investigating"}},
		{name: "SEV4 is degraded performance", incs: []incidents.Incident{pub(1, "search", incidents.SEV4)},
			checkout: Operational, search: Degraded, status: Degraded, summary: "Degraded performance", active: []string{"investigating"}},
		{name: "no severity is degraded performance", incs: []incidents.Incident{pub(1, "search", 0)},
			checkout: Operational, search: Degraded, status: Degraded, summary: "Degraded performance", active: []string{"investigating"}},
		{name: "acknowledged is still investigating", incs: []incidents.Incident{acked},
			checkout: PartialOutage, search: Operational, status: PartialOutage, summary: "Partial outage", active: []string{"investigating"}},
		{name: "mitigated is monitoring and degrades nothing", incs: []incidents.Incident{mitigated(t, pub(1, "checkout", incidents.SEV1), now.Add(-time.Minute))},
			checkout: Operational, search: Operational, status: Operational,
			summary: "All systems operational; we are monitoring a recent incident", active: []string{"monitoring"}},
		{name: "the worst open incident of a component wins",
			incs:     []incidents.Incident{pub(1, "checkout", incidents.SEV3), pub(2, "checkout", incidents.SEV1), pub(3, "search", incidents.SEV2)},
			checkout: MajorOutage, search: PartialOutage, status: MajorOutage, summary: "Major outage",
			active: []string{"investigating", "investigating", "investigating"}},
		{name: "a mitigated SEV1 beside an open SEV3",
			incs:     []incidents.Incident{mitigated(t, pub(1, "checkout", incidents.SEV1), now.Add(-time.Minute)), pub(2, "checkout", incidents.SEV3)},
			checkout: Degraded, search: Operational, status: Degraded, summary: "Degraded performance", active: []string{"investigating", "monitoring"}},
		{name: "resolved is past and degrades nothing", incs: []incidents.Incident{resolved(t, pub(1, "checkout", incidents.SEV1), now.Add(-time.Minute))},
			checkout: Operational, search: Operational, status: Operational, summary: "All systems operational", past: []string{"resolved"}},
		{name: "a drill is never published", incs: []incidents.Incident{drill},
			checkout: Operational, search: Operational, status: Operational, summary: "All systems operational"},
		{name: "a merged incident is never published", incs: []incidents.Incident{merged},
			checkout: Operational, search: Operational, status: Operational, summary: "All systems operational"},
		{name: "internal updates only are not published", incs: []incidents.Incident{internalOnly},
			checkout: Operational, search: Operational, status: Operational, summary: "All systems operational"},
		{name: "no update is not published", incs: []incidents.Incident{silent},
			checkout: Operational, search: Operational, status: Operational, summary: "All systems operational"},
		{name: "a service without a public name degrades the page, no component", incs: []incidents.Incident{pub(1, "billing-batch", incidents.SEV2)},
			checkout: Operational, search: Operational, status: PartialOutage, summary: "Partial outage", active: []string{"investigating"}},
		{name: "an unknown service degrades the page, no component", incs: []incidents.Incident{pub(1, "nope", incidents.SEV1)},
			checkout: Operational, search: Operational, status: MajorOutage, summary: "Major outage", active: []string{"investigating"}},
		{name: "a mitigated incident without a component degrades nothing",
			incs:     []incidents.Incident{mitigated(t, pub(1, "billing-batch", incidents.SEV1), now.Add(-time.Minute))},
			checkout: Operational, search: Operational, status: Operational,
			summary: "All systems operational; we are monitoring a recent incident", active: []string{"monitoring"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Build(cat, tc.incs, now, Options{})
			if len(p.Components) != 2 || p.Components[0].Name != "Checkout" || p.Components[1].Name != "Search" {
				t.Fatalf("components %+v, want Checkout and Search in catalogue order", p.Components)
			}
			if got := componentState(p, "Checkout"); got != tc.checkout {
				t.Errorf("Checkout %s, want %s", got, tc.checkout)
			}
			if got := componentState(p, "Search"); got != tc.search {
				t.Errorf("Search %s, want %s", got, tc.search)
			}
			if p.Status != tc.status || p.Summary != tc.summary {
				t.Errorf("page %s %q, want %s %q", p.Status, p.Summary, tc.status, tc.summary)
			}
			statuses := func(incs []Incident) []string {
				var out []string
				for _, i := range incs {
					out = append(out, i.Status)
				}
				return out
			}
			if got := statuses(p.Active); !slices.Equal(got, tc.active) {
				t.Errorf("active %v, want %v", got, tc.active)
			}
			if got := statuses(p.Past); !slices.Equal(got, tc.past) {
				t.Errorf("past %v, want %v", got, tc.past)
			}
		})
	}
}

// A published incident is called by its public title, else by its
// component and impact, else "Service disruption"; only its public
// updates are listed, newest first, with the status they were posted in.
func TestBuildIncidentFields(t *testing.T) {
	opened := at(23, 9, 0)
	named := declared(t, 7, "checkout", incidents.SEV2, opened)
	must(t, named.PostUpdate("internal first", false, "Internal title on an internal update", responder, opened.Add(time.Minute)))
	must(t, named.PostUpdate("Checkout fails for some customers.", true, "Checkout errors", responder, opened.Add(2*time.Minute)))
	must(t, named.Mitigate(responder, "", opened.Add(3*time.Minute)))
	must(t, named.PostUpdate("A fix is deployed; we are monitoring.", true, "", responder, opened.Add(4*time.Minute)))
	generic := declared(t, 8, "search", incidents.SEV3, opened.Add(time.Minute), "Search is slow.")
	hidden := declared(t, 9, "billing-batch", incidents.SEV1, opened.Add(2*time.Minute), "Invoices are late.")

	p := Build(cat, []incidents.Incident{named, generic, hidden}, now, Options{})
	if len(p.Active) != 3 {
		t.Fatalf("active: %+v", p.Active)
	}
	// Newest first.
	h, g, n := p.Active[0], p.Active[1], p.Active[2]
	if n.Title != "Checkout errors" || !slices.Equal(n.Components, []string{"Checkout"}) || n.Impact != PartialOutage || n.Status != "monitoring" {
		t.Errorf("named: %+v", n)
	}
	want := []Update{
		{At: opened.Add(4 * time.Minute), Status: "monitoring", Text: "A fix is deployed; we are monitoring."},
		{At: opened.Add(2 * time.Minute), Status: "investigating", Text: "Checkout fails for some customers."},
	}
	if !slices.Equal(n.Updates, want) || !n.Updated.Equal(want[0].At) || !n.Started.Equal(opened) {
		t.Errorf("named updates %+v, updated %v, started %v", n.Updates, n.Updated, n.Started)
	}
	if g.Title != "Search: Degraded performance" || !slices.Equal(g.Components, []string{"Search"}) {
		t.Errorf("generic: %+v", g)
	}
	if h.Title != "Service disruption" || len(h.Components) != 0 || h.Impact != MajorOutage {
		t.Errorf("hidden service: %+v", h)
	}
	ids := map[string]bool{}
	for _, i := range p.Active {
		if len(i.ID) != 16 || strings.Trim(i.ID, "0123456789abcdef") != "" {
			t.Errorf("id %q is not 16 hex digits", i.ID)
		}
		ids[i.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("public ids are not distinct: %v", ids)
	}
	// Without the key nobody can tell which internal id a public one is.
	other := Build(cat, []incidents.Incident{named, generic, hidden}, now, Options{Key: "another store"})
	for _, i := range other.Active {
		if ids[i.ID] {
			t.Errorf("id %q is the same under another key", i.ID)
		}
	}
	if again := Build(cat, []incidents.Incident{named}, now.Add(time.Hour), Options{}); again.Active[0].ID != n.ID {
		t.Errorf("public id changed from %s to %s", n.ID, again.Active[0].ID)
	}
}

// days renders a component's history as one letter a day, oldest first:
// o operational, d degraded, p partial outage, M major outage.
func days(c Component) string {
	letter := map[State]string{Operational: "o", Degraded: "d", PartialOutage: "p", MajorOutage: "M"}
	var b strings.Builder
	for _, d := range c.Days {
		b.WriteString(letter[d.State])
	}
	return b.String()
}

// Each component has one day per day of history, ending today (UTC),
// each the worst impact an incident had on it that day; a mitigated
// incident's impact ends when it was mitigated.
func TestBuildHistory(t *testing.T) {
	p := Build(cat, nil, now, Options{})
	for _, c := range p.Components {
		if len(c.Days) != 90 || c.Days[0].Date != "2026-08-26" || c.Days[89].Date != "2026-11-23" || strings.Trim(days(c), "o") != "" {
			t.Fatalf("default history of %s: %d days, %s … %s, %s", c.Name, len(c.Days), c.Days[0].Date, c.Days[len(c.Days)-1].Date, days(c))
		}
	}
	if p.HistoryDays != 90 {
		t.Errorf("history_days %d", p.HistoryDays)
	}

	drill := resolved(t, declared(t, 6, "checkout", incidents.SEV1, at(17, 9, 0), "drill"), at(17, 10, 0))
	drill.Drill = true
	e := mitigated(t, declared(t, 5, "search", incidents.SEV1, at(19, 10, 0), "search down"), at(19, 10, 30))
	incs := []incidents.Incident{
		// Across midnight: both days.
		resolved(t, declared(t, 1, "checkout", incidents.SEV2, at(20, 22, 0), "a"), at(21, 2, 0)),
		// Open since yesterday: yesterday and today.
		declared(t, 2, "search", incidents.SEV3, at(22, 8, 0), "b"),
		// The worse of two on one day.
		resolved(t, declared(t, 3, "checkout", incidents.SEV1, at(21, 5, 0), "c"), at(21, 6, 0)),
		// Resolved at midnight: not the next day.
		resolved(t, declared(t, 4, "checkout", incidents.SEV3, at(18, 23, 0), "d"), at(19, 0, 0)),
		// Mitigated after half an hour, resolved two days later: one day.
		resolved(t, e, at(21, 12, 0)),
		drill,
		// Opened before the window, resolved in it.
		resolved(t, declared(t, 7, "checkout", incidents.SEV2, at(10, 0, 0), "g"), at(17, 3, 0)),
		// Resolved before the window.
		resolved(t, declared(t, 8, "search", incidents.SEV1, at(15, 0, 0), "h"), at(16, 23, 59)),
	}
	p = Build(cat, incs, now, Options{HistoryDays: 7})
	if p.HistoryDays != 7 || len(p.Components) != 2 {
		t.Fatalf("page: %+v", p)
	}
	var dates []string
	for _, d := range p.Components[0].Days {
		dates = append(dates, d.Date)
	}
	if want := []string{"2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"}; !slices.Equal(dates, want) {
		t.Errorf("dates %v, want %v", dates, want)
	}
	if got := days(p.Components[0]); got != "pdopMoo" {
		t.Errorf("Checkout history %s, want pdopMoo", got)
	}
	if got := days(p.Components[1]); got != "ooMoodd" {
		t.Errorf("Search history %s, want ooMoodd", got)
	}
	if len(p.Active) != 1 || len(p.Past) != 5 {
		t.Errorf("%d active, %d past, want 1 and 5", len(p.Active), len(p.Past))
	}
	for i := 1; i < len(p.Past); i++ {
		if p.Past[i].Started.After(p.Past[i-1].Started) {
			t.Errorf("past incidents not newest first: %v after %v", p.Past[i].Started, p.Past[i-1].Started)
		}
	}

	// The day is UTC's, whatever the clock's zone.
	la, err := time.LoadLocation("America/Los_Angeles")
	if err == nil {
		p = Build(cat, nil, now.In(la), Options{HistoryDays: 2})
		if d := p.Components[0].Days; d[1].Date != "2026-11-23" || p.Updated.Location() != time.UTC {
			t.Errorf("in Los Angeles: %+v, updated %v", d, p.Updated)
		}
	}
}

// Past incidents resolved before the first day of the history are
// dropped; incidents still open are shown however old.
func TestBuildPastWindow(t *testing.T) {
	first := at(17, 0, 0) // the first day of 7
	old := func(id int64) incidents.Incident {
		return declared(t, id, "checkout", incidents.SEV2, at(1, 0, 0), "update")
	}
	for _, tc := range []struct {
		name         string
		inc          incidents.Incident
		active, past int
	}{
		{"resolved on the first day", resolved(t, old(1), first), 0, 1},
		{"resolved a second before", resolved(t, old(2), first.Add(-time.Second)), 0, 0},
		{"resolved 100 days ago", resolved(t, declared(t, 3, "checkout", incidents.SEV1, now.AddDate(0, 0, -101), "x"), now.AddDate(0, 0, -100)), 0, 0},
		{"open for weeks", old(4), 1, 0},
		{"mitigated for weeks", mitigated(t, old(5), at(2, 0, 0)), 1, 0},
	} {
		p := Build(cat, []incidents.Incident{tc.inc}, now, Options{HistoryDays: 7})
		if len(p.Active) != tc.active || len(p.Past) != tc.past {
			t.Errorf("%s: %d active, %d past, want %d and %d", tc.name, len(p.Active), len(p.Past), tc.active, tc.past)
		}
	}
	// A mitigated incident open for weeks no longer colours the history.
	p := Build(cat, []incidents.Incident{mitigated(t, old(5), at(2, 0, 0))}, now, Options{HistoryDays: 7})
	if got := days(p.Components[0]); got != "ooooooo" {
		t.Errorf("history of an incident mitigated before the window: %s", got)
	}
}

// outputs renders p as HTML, JSON and Atom.
func outputs(t *testing.T, p Page) map[string]string {
	t.Helper()
	var h, j, a bytes.Buffer
	must(t, WriteHTML(&h, p))
	must(t, WriteJSON(&j, p))
	must(t, WriteAtom(&a, p, "https://status.example.com/"))
	return map[string]string{"html": h.String(), "json": j.String(), "atom": a.String()}
}

// Nothing of an incident but its public title, public updates, times,
// impact and public component reaches any output: a page built from
// incidents full of marked internal strings shows none of them.
func TestNothingInternalLeaks(t *testing.T) {
	leakCat := catalog.Catalog{Services: []catalog.Service{
		{Name: "svc-INTERNAL-chk", Description: "desc-INTERNAL", Team: "team-INTERNAL", Tier: 1, Policy: "policy-INTERNAL-svc",
			Runbook: "https://runbook-INTERNAL.example/chk", Dashboard: "https://dash-INTERNAL.example/d", Logs: `app="logs-INTERNAL"`, PublicName: "Checkout"},
		{Name: "svc-INTERNAL-hidden", Description: "desc-INTERNAL-hidden", Team: "team-INTERNAL-hidden"},
	}}
	slack := func(name string) incidents.Actor { return incidents.Actor{Name: name, Source: "slack-INTERNAL"} }
	policy := schedule.Policy{Name: "policy-INTERNAL", Steps: []schedule.Step{{Name: "step-INTERNAL",
		Targets: []schedule.Target{{User: "pager-person-INTERNAL"}, {Schedule: "schedule-INTERNAL"}}, Delay: time.Hour}}}

	opened := at(23, 8, 0)
	main := incidents.Incident{
		ID: 4242, Key: `pager-INTERNAL/{}:{alertname="AlertName-INTERNAL"}`, Links: []string{`pager/{}:{alertname="Linked-INTERNAL", team="label-INTERNAL"}`},
		Title: "Title-INTERNAL primary db failover", Summary: "Summary-INTERNAL: replica lag on db-INTERNAL-7",
		Service: "svc-INTERNAL-chk", Severity: incidents.SEV1, RunbookURL: "https://runbook-INTERNAL.example/incident",
		AlertSeverity: "alertsev-INTERNAL", Status: incidents.StatusTriggered, DeclaredBy: "declarer-INTERNAL", OpenedAt: opened,
		AlertsFiring: 3, GroupFiring: map[string]int{"group-INTERNAL": 3},
		Escalation: incidents.Escalation{Policy: "policy-INTERNAL", Frozen: &policy, StepName: "step-INTERNAL", Steps: 1, Seq: 1,
			Paged: []string{"pager-person-INTERNAL"}, StepStartedAt: opened},
	}
	main.Note(opened, "alert", "Timeline-INTERNAL: HighErrorRate-INTERNAL firing")
	must(t, main.Acknowledge(incidents.Settings{}, slack("acker-INTERNAL"), opened.Add(time.Minute)))
	must(t, main.Assign(incidents.RoleCommander, "@commander-INTERNAL", slack("assigner-INTERNAL"), opened.Add(2*time.Minute)))
	must(t, main.Assign(incidents.RoleCommunication, "comms-INTERNAL", slack("assigner-INTERNAL"), opened.Add(2*time.Minute)))
	must(t, main.Assign(incidents.RoleScribe, "scribe-INTERNAL", slack("assigner-INTERNAL"), opened.Add(2*time.Minute)))
	must(t, main.AddNote("Note-INTERNAL: failing over to db-INTERNAL-8", slack("noter-INTERNAL"), opened.Add(3*time.Minute)))
	must(t, main.PostUpdate("Update-INTERNAL: customers on shard INTERNAL-3", false, "Title-INTERNAL-of-an-internal-update", slack("updater-INTERNAL"), opened.Add(4*time.Minute)))
	must(t, main.PostUpdate("Payments are failing for some customers.", true, "Payments failing", slack("publisher-INTERNAL"), opened.Add(5*time.Minute)))
	_, err := main.AddTask("Task-INTERNAL: roll back", "@owner-INTERNAL", slack("tasker-INTERNAL"), opened.Add(6*time.Minute))
	must(t, err)
	must(t, main.SetSeverity(incidents.SEV2, slack("sev-INTERNAL"), opened.Add(7*time.Minute)))
	must(t, main.Mitigate(slack("mitigator-INTERNAL"), "Why-INTERNAL: rolled back", opened.Add(8*time.Minute)))
	must(t, main.PostUpdate("A fix is in place and we are monitoring.", true, "", slack("publisher-INTERNAL"), opened.Add(9*time.Minute)))

	past := incidents.Incident{ID: 4243, Title: "Title-INTERNAL-past", Summary: "Summary-INTERNAL-past", Service: "svc-INTERNAL-hidden",
		Severity: incidents.SEV3, AlertSeverity: "warning-INTERNAL", Status: incidents.StatusTriggered, OpenedAt: at(21, 9, 0)}
	must(t, past.PostUpdate("Invoices were delayed.", true, "", slack("publisher-INTERNAL"), at(21, 9, 5)))
	must(t, past.Resolve(slack("resolver-INTERNAL"), "Why-INTERNAL-resolved", at(21, 11, 0)))

	drill := incidents.Incident{ID: 4244, Title: "Title-INTERNAL-drill", Service: "svc-INTERNAL-chk", Severity: incidents.SEV1,
		Status: incidents.StatusTriggered, Drill: true, OpenedAt: at(23, 9, 0)}
	must(t, drill.PostUpdate("Drill-public-text-INTERNAL", true, "Drill-public-title-INTERNAL", slack("drill-INTERNAL"), at(23, 9, 1)))

	merged := incidents.Incident{ID: 4245, Title: "Title-INTERNAL-merged", Service: "svc-INTERNAL-chk", Severity: incidents.SEV1,
		Status: incidents.StatusTriggered, OpenedAt: at(23, 9, 0)}
	must(t, merged.PostUpdate("Merged-public-text-INTERNAL", true, "Merged-public-title-INTERNAL", slack("merge-INTERNAL"), at(23, 9, 2)))
	merged.MergedInto, merged.Status, merged.ResolvedAt = 4299, incidents.StatusResolved, at(23, 9, 30)

	internal := incidents.Incident{ID: 4246, Title: "Title-INTERNAL-internal-only", Service: "svc-INTERNAL-chk", Severity: incidents.SEV1,
		Status: incidents.StatusTriggered, OpenedAt: at(23, 9, 0)}
	must(t, internal.PostUpdate("Internal-only-INTERNAL", false, "", slack("internal-INTERNAL"), at(23, 9, 3)))

	p := Build(leakCat, []incidents.Incident{main, past, drill, merged, internal}, now, Options{Title: "Example status", URL: "https://status.example.com"})
	if len(p.Active) != 1 || len(p.Past) != 1 {
		t.Fatalf("%d active, %d past, want 1 and 1", len(p.Active), len(p.Past))
	}
	public := []string{"Payments failing", "Payments are failing for some customers.", "A fix is in place and we are monitoring.",
		"Service disruption", "Invoices were delayed.", "Checkout", "Example status"}
	forbidden := []string{
		"INTERNAL", // every internal string above is marked
		"4242", "4243", "4244", "4245", "4246", "INC-", "SEV", "alertname",
		"triggered", "acknowledged", "mitigated", "commander", "scribe", "responder",
	}
	for kind, out := range outputs(t, p) {
		for _, s := range public {
			if s == "Checkout" && kind == "atom" {
				continue // entries do not name components
			}
			if !strings.Contains(out, s) {
				t.Errorf("%s: the public %q is missing", kind, s)
			}
		}
		for _, s := range forbidden {
			if i := strings.Index(strings.ToUpper(out), strings.ToUpper(s)); i >= 0 {
				t.Errorf("%s leaks %q: …%s…", kind, s, out[max(0, i-60):min(len(out), i+60)])
			}
		}
	}
}

// Public text is text: markup in a public title or update is escaped in
// HTML and Atom and comes back unchanged from every output.
func TestRenderEscapes(t *testing.T) {
	const title, text = `<script>alert("t")</script> & co`, `<img src=x onerror=alert(1)> "quoted" it's <u>underlined</u>`
	inc := declared(t, 1, "checkout", incidents.SEV2, at(23, 9, 0))
	must(t, inc.PostUpdate(text, true, title, responder, at(23, 9, 1)))
	p := Build(cat, []incidents.Incident{inc}, now, Options{Title: `Status <of> "us" & co`})
	out := outputs(t, p)
	for _, raw := range []string{"<script", "<img", "<u>"} {
		if strings.Contains(out["html"], raw) {
			t.Errorf("HTML has raw %q", raw)
		}
	}
	doc := parseHTML(t, out["html"])
	if n := find(doc, func(n *html.Node) bool {
		return n.Type == html.ElementNode && (n.Data == "script" || n.Data == "img" || n.Data == "u")
	}); n != nil {
		t.Errorf("HTML has a <%s> element", n.Data)
	}
	art := byID(doc, "incident-"+p.Active[0].ID)
	if art == nil {
		t.Fatalf("no incident article in\n%s", out["html"])
	}
	if h3 := find(art, element("h3")); h3 == nil || textOf(h3) != title {
		t.Errorf("incident title in HTML: %q, want %q", textOf(h3), title)
	}
	if u := find(art, hasClass("update")); u == nil || !strings.Contains(textOf(u), text) {
		t.Errorf("update in HTML: %q, want it to contain %q", textOf(u), text)
	}
	if got := textOf(find(doc, element("title"))); got != p.Title {
		t.Errorf("<title> %q, want %q", got, p.Title)
	}

	f := parseAtom(t, out["atom"])
	if f.Title != p.Title || len(f.Entries) != 1 || f.Entries[0].Title != title || !strings.Contains(f.Entries[0].Content.Body, text) {
		t.Errorf("atom: %+v", f)
	}
	var back Page
	must(t, json.Unmarshal([]byte(out["json"]), &back))
	if back.Title != p.Title || back.Active[0].Title != title || back.Active[0].Updates[0].Text != text {
		t.Errorf("json: %+v", back)
	}
}

// goldenPage is the page of the golden files: an open partial outage of
// Checkout with two public updates, a mitigated Search incident and a
// major outage two days ago, on the fixed clock.
func goldenPage(t *testing.T) Page {
	opened := at(23, 9, 12)
	checkout := declared(t, 11, "checkout", incidents.SEV2, opened)
	must(t, checkout.PostUpdate("Some payments fail; we are investigating.", true, "Checkout errors", responder, opened.Add(6*time.Minute)))
	must(t, checkout.AddNote("rolled back build 4.2.1", responder, opened.Add(10*time.Minute)))
	must(t, checkout.PostUpdate("We found the cause and are rolling back.", true, "", responder, opened.Add(31*time.Minute)))
	search := declared(t, 10, "search", incidents.SEV3, at(23, 7, 40), "Search results are slow for some customers.")
	must(t, search.Mitigate(responder, "", at(23, 8, 15)))
	must(t, search.PostUpdate("Search is fast again; we are monitoring.", true, "Slow search", responder, at(23, 8, 20)))
	past := declared(t, 9, "checkout", incidents.SEV1, at(21, 14, 2), "Checkout is down for all customers.")
	must(t, past.PostUpdate("Checkout works again.", true, "Checkout outage", responder, at(21, 14, 50)))
	must(t, past.Resolve(responder, "", at(21, 15, 0)))
	return Build(cat, []incidents.Incident{past, search, checkout}, now, Options{Title: "Example status", HistoryDays: 7, URL: "https://status.example.com"})
}

func TestGolden(t *testing.T) {
	out := outputs(t, goldenPage(t))
	golden.File(t, "page.html", out["html"])
	golden.File(t, "page.json", out["json"])
	golden.File(t, "feed.atom", out["atom"])
}

// The HTML is a whole document without script: a banner, one list item
// per component with a day per day of history, and each incident once.
func TestHTMLStructure(t *testing.T) {
	p := goldenPage(t)
	out := outputs(t, p)["html"]
	if !strings.HasPrefix(out, "<!doctype html>\n") {
		t.Errorf("no doctype: %.40q", out)
	}
	doc := parseHTML(t, out)
	if n := find(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return false
		}
		if n.Data == "script" || n.Data == "iframe" || n.Data == "object" || n.Data == "form" {
			return true
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(strings.TrimSpace(a.Val), "javascript:") {
				return true
			}
		}
		return false
	}); n != nil {
		t.Errorf("HTML needs no JavaScript, but has <%s %v>", n.Data, n.Attr)
	}
	ids := map[string]int{}
	walk(doc, func(n *html.Node) {
		if id := attr(n, "id"); id != "" {
			ids[id]++
		}
	})
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	if root := find(doc, element("html")); attr(root, "lang") != "en" {
		t.Errorf("<html lang=%q>", attr(root, "lang"))
	}
	banner := byID(doc, "overall")
	if banner == nil || !hasClass(string(PartialOutage))(banner) || textOf(banner) != "Partial outage" {
		t.Errorf("banner: %v %q", banner, textOf(banner))
	}
	items := findAll(find(doc, hasClass("components")), element("li"))
	if len(items) != 2 {
		t.Fatalf("%d components in the HTML", len(items))
	}
	for i, c := range p.Components {
		li := items[i]
		st := find(li, hasClass("state"))
		if textOf(find(li, hasClass("name"))) != c.Name || st == nil || !hasClass(string(c.State))(st) || textOf(st) != c.State.Words() {
			t.Errorf("component %d: %q %v %q, want %s %s", i, textOf(find(li, hasClass("name"))), st, textOf(st), c.Name, c.State)
		}
		spans := findAll(find(li, hasClass("days")), element("span"))
		if len(spans) != len(c.Days) {
			t.Fatalf("%s: %d day spans, want %d", c.Name, len(spans), len(c.Days))
		}
		for j, d := range c.Days {
			if attr(spans[j], "class") != string(d.State) || attr(spans[j], "title") != d.Date+": "+d.State.Words() {
				t.Errorf("%s day %d: class %q title %q, want %s", c.Name, j, attr(spans[j], "class"), attr(spans[j], "title"), d.State)
			}
		}
	}
	for _, inc := range append(append([]Incident{}, p.Active...), p.Past...) {
		art := byID(doc, "incident-"+inc.ID)
		if art == nil || textOf(find(art, element("h3"))) != inc.Title || len(findAll(art, hasClass("update"))) != len(inc.Updates) {
			t.Errorf("incident %s (%s) not shown with its %d updates", inc.ID, inc.Title, len(inc.Updates))
		}
	}
	for _, a := range findAll(doc, func(n *html.Node) bool { return attr(n, "href") != "" }) {
		if href := attr(a, "href"); href != "status/feed.atom" && href != "status.json" {
			t.Errorf("unexpected link %q", href)
		}
	}

	// Without incidents, nor components.
	doc = parseHTML(t, outputs(t, Build(catalog.Catalog{}, nil, now, Options{}))["html"])
	if b := byID(doc, "overall"); !hasClass("operational")(b) || textOf(b) != "All systems operational" {
		t.Errorf("empty page banner %q", textOf(b))
	}
	if !strings.Contains(textOf(doc), "No components are published.") || !strings.Contains(textOf(doc), "No incidents in the last 90 days.") {
		t.Errorf("empty page:\n%s", textOf(doc))
	}
}

// The feed is valid Atom (RFC 4287): a feed id, title, updated and author,
// self and alternate links; an entry per published incident, newest
// update first, each with an id, title, updated, link and content.
func TestAtomFeed(t *testing.T) {
	p := goldenPage(t)
	f := parseAtom(t, outputs(t, p)["atom"])
	if f.XMLName.Space != "http://www.w3.org/2005/Atom" || f.XMLName.Local != "feed" {
		t.Errorf("root element %v", f.XMLName)
	}
	if f.ID != "https://status.example.com/status" || f.Title != "Example status" || f.Author.Name == "" {
		t.Errorf("feed id %q title %q author %q", f.ID, f.Title, f.Author.Name)
	}
	if u, err := time.Parse(time.RFC3339, f.Updated); err != nil || !u.Equal(now) {
		t.Errorf("feed updated %q: %v", f.Updated, err)
	}
	links := map[string]string{}
	for _, l := range f.Links {
		links[l.Rel] = l.Href
	}
	if links["self"] != "https://status.example.com/status/feed.atom" || links["alternate"] != "https://status.example.com/status" {
		t.Errorf("links %v", links)
	}
	if len(f.Entries) != 3 {
		t.Fatalf("%d entries, want 3", len(f.Entries))
	}
	var last time.Time
	seen := map[string]bool{}
	for i, e := range f.Entries {
		u, err := time.Parse(time.RFC3339, e.Updated)
		if err != nil || e.ID == "" || seen[e.ID] || e.Title == "" || e.Link.Href != e.ID || e.Content.Type != "text" || e.Content.Body == "" {
			t.Errorf("entry %d: %+v (%v)", i, e, err)
		}
		if i > 0 && u.After(last) {
			t.Errorf("entry %d updated %v after the one before (%v)", i, u, last)
		}
		seen[e.ID], last = true, u
	}
	if got := f.Entries[0]; got.Title != "Checkout errors" ||
		got.Content.Body != "Nov 23, 09:43 UTC — investigating: We found the cause and are rolling back.\nNov 23, 09:18 UTC — investigating: Some payments fail; we are investigating.\n" {
		t.Errorf("first entry: %+v", got)
	}
}

// The feed lists the incident updated last first, open or resolved.
func TestAtomNewestUpdateFirst(t *testing.T) {
	open := declared(t, 1, "checkout", incidents.SEV3, at(23, 9, 0), "open, updated at 9:01")
	past := declared(t, 2, "search", incidents.SEV3, at(23, 8, 0))
	must(t, past.PostUpdate("past, updated at 9:30", true, "Past", responder, at(23, 9, 30)))
	must(t, past.Resolve(responder, "", at(23, 9, 31)))
	f := parseAtom(t, outputs(t, Build(cat, []incidents.Incident{open, past}, now, Options{}))["atom"])
	if len(f.Entries) != 2 || f.Entries[0].Title != "Past" {
		t.Errorf("entries %+v, want the past incident (updated 9:30) first", f.Entries)
	}
}

// JSON lists are [] when empty, for clients that iterate them.
func TestJSONEmptyLists(t *testing.T) {
	out := outputs(t, Build(catalog.Catalog{}, nil, now, Options{}))["json"]
	var m map[string]any
	must(t, json.Unmarshal([]byte(out), &m))
	for _, k := range []string{"components", "active_incidents", "past_incidents"} {
		if v, ok := m[k].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", k, m[k])
		}
	}
}

type atomFeedIn struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links   []atomLink `xml:"link"`
	Entries []struct {
		Title   string   `xml:"title"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Link    atomLink `xml:"link"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

// parseAtom decodes an Atom feed strictly.
func parseAtom(t *testing.T, s string) atomFeedIn {
	t.Helper()
	var f atomFeedIn
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("the feed is not XML: %v\n%s", err, s)
	}
	return f
}

func parseHTML(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("the page does not parse as HTML: %v", err)
	}
	return doc
}

func walk(n *html.Node, f func(*html.Node)) {
	if n == nil {
		return
	}
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(n, func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
	})
	return out
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if all := findAll(n, match); len(all) > 0 {
		return all[0]
	}
	return nil
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func element(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == name }
}

func hasClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n != nil && slices.Contains(strings.Fields(attr(n, "class")), class) }
}

func byID(doc *html.Node, id string) *html.Node {
	return find(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") == id })
}

// textOf is the text of n and its descendants, spaces collapsed.
func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) {
		if n.Type == html.TextNode && (n.Parent == nil || n.Parent.Data != "style") {
			b.WriteString(n.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}
