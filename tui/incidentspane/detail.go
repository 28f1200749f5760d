package incidentspane

// The incident's detail: its state, roles, escalation and countdown,
// updates, tasks, pages and the whole timeline.

import (
	"fmt"
	"strings"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
)

// detail draws one incident in full.
func (p *Pane) detail(w, h int) string {
	th := p.env.Theme
	inc, ok := p.env.State.Incident(p.open)
	head := layout.Box(*th, fmt.Sprintf("Incident INC-%d", p.open), nil, w, 1, true)
	head = append(head, p.inputLines()...)
	if !ok {
		return layout.Lines(append(head, th.OK.Render(fmt.Sprintf("INC-%d is no longer open (resolved).", p.open)), th.Dim.Render("esc back to the list")), w, h)
	}
	now := p.env.Now()
	var out []string
	row := func(k, v string) { out = append(out, "  "+th.Dim.Render(fmt.Sprintf("%-14s", k))+v) }
	section := func(name string) { out = append(out, "", th.Bold.Render(name)) }
	out = append(out, th.Bold.Render(termtext.Clean(inc.Title)))
	if inc.Summary != "" && inc.Summary != inc.Title {
		for _, l := range strings.Split(termtext.CleanLines(inc.Summary), "\n") {
			out = append(out, l)
		}
	}
	out = append(out, "")
	st := p.statusCell(inc)
	if inc.Drill {
		st += th.Dim.Render(" · drill")
	}
	row("status", st)
	row("severity", orDash(inc.Severity.String()))
	row("service", termtext.Clean(inc.Service))
	if inc.DeclaredBy != "" {
		row("declared by", termtext.Clean(inc.DeclaredBy)+th.Dim.Render(" (no alert caught it)"))
	}
	row("opened", inc.OpenedAt.Local().Format("2006-01-02 15:04:05")+th.Dim.Render(" ("+layout.Short(now.Sub(inc.OpenedAt))+" ago)"))
	if inc.RunbookURL != "" {
		row("runbook", termtext.Clean(inc.RunbookURL))
	}
	if inc.Channel != "" {
		row("chat", termtext.Clean(inc.Channel)+th.Dim.Render(" (kept for the timeline and the postmortem)"))
	}
	row("alerts firing", fmt.Sprint(inc.AlertsFiring))

	section("Roles")
	if inc.CommanderNeeded {
		out = append(out, "  "+th.Error.Render(inc.Severity.String()+" needs an incident commander: press i to take the role"))
	}
	for _, r := range incidents.Roles {
		who := th.Dim.Render("—")
		if w := inc.Role(r); w != "" {
			who = termtext.Clean(w)
		}
		out = append(out, "  "+th.Dim.Render(fmt.Sprintf("%-21s", r.Title()))+who)
	}

	section("Escalation")
	row("policy", termtext.Clean(inc.Escalation.Policy))
	row("now", p.escalation(inc, now))
	if e := inc.Escalation; !e.StepStartedAt.IsZero() {
		row("step paged", e.StepStartedAt.Local().Format("15:04:05")+th.Dim.Render(" ("+layout.Short(now.Sub(e.StepStartedAt))+" ago)"))
	}
	if inc.Status == incidents.StatusTriggered && !inc.Escalation.NextAt.IsZero() {
		row("next step", inc.Escalation.NextAt.Local().Format("15:04:05")+th.Warn.Render(" unless acknowledged"))
	}

	if len(inc.Updates) > 0 {
		section("Status updates")
		for _, u := range inc.Updates {
			tag := th.Dim.Render("internal")
			if u.Public {
				tag = th.Warn.Render("public  ")
			}
			out = append(out, "  "+th.Dim.Render(u.At.Local().Format("15:04:05")+" ")+tag+" "+termtext.Clean(u.Text)+th.Dim.Render(" — "+termtext.Clean(u.Actor)))
		}
	}
	if len(inc.Tasks) > 0 {
		section("Tasks")
		for _, t := range inc.Tasks {
			box := "[ ]"
			if t.Done {
				box = th.OK.Render("[x]")
			}
			owner := th.Dim.Render(" (nobody yet)")
			if t.Owner != "" {
				owner = th.Dim.Render(" (" + termtext.Clean(t.Owner) + ")")
			}
			out = append(out, fmt.Sprintf("  %s %d. %s", box, t.ID, termtext.Clean(t.Text))+owner)
		}
	}

	section("Timeline")
	for _, ev := range inc.Timeline {
		who := ""
		if ev.Actor != "" {
			who = th.Dim.Render(" — " + termtext.Clean(ev.Actor))
			if ev.Source != "" {
				who = th.Dim.Render(" — " + termtext.Clean(ev.Actor) + " via " + termtext.Clean(ev.Source))
			}
		}
		out = append(out, "  "+th.Dim.Render(ev.At.Local().Format("15:04:05")+" ")+fmt.Sprintf("%-12s ", termtext.Clean(ev.Kind))+termtext.Clean(ev.Text)+who)
	}

	if pages := p.pagesOf(inc.ID); len(pages) > 0 {
		section("Pages")
		for _, pg := range pages {
			state := th.OK.Render("delivered")
			if pg.SentAt.IsZero() {
				state = th.Warn.Render(fmt.Sprintf("queued (%d tries)", pg.Attempts))
				if pg.LastError != "" {
					state += th.Error.Render(" " + termtext.Clean(pg.LastError))
				}
			}
			out = append(out, "  "+th.Dim.Render(pg.CreatedAt.Local().Format("15:04:05")+" ")+fmt.Sprintf("%-9s → %s (%s) ", termtext.Clean(pg.Kind),
				th.Bold.Render(termtext.Clean(pg.Target)), termtext.Clean(pg.StepName))+state)
		}
	}

	var firing []string
	for i := range p.env.State.Alerts {
		a := &p.env.State.Alerts[i]
		if inc.Service != "" && a.Labels.Get("service") == inc.Service {
			firing = append(firing, fmt.Sprintf("  %-9s %s %s", a.Status.State, termtext.Clean(a.Name()), th.Dim.Render(termtext.Clean(a.Summary()))))
		}
	}
	if len(firing) > 0 {
		section("Alerts of " + termtext.Clean(inc.Service))
		out = append(out, firing...)
	}
	out = append(out, "", th.Dim.Render("a acknowledge · e escalate · m mitigated · r resolve · i take IC · n note · esc back"))
	p.vp.SetWidth(w)
	p.vp.SetHeight(h - len(head))
	off := p.vp.YOffset()
	p.vp.SetContentLines(out)
	p.vp.SetYOffset(off)
	return layout.Lines(append(head, strings.Split(p.vp.View(), "\n")...), w, h)
}

// pagesOf lists the recent pages of an incident, oldest first.
func (p *Pane) pagesOf(id int64) []incidents.Page {
	var out []incidents.Page
	for _, pg := range p.env.State.Pages {
		if pg.IncidentID == id {
			out = append(out, pg)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
