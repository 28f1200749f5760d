package postmortem

// What a scaffold says of the response: the timeline, who was paged at
// each step and when they answered, and the figures (time to detect,
// acknowledge, mitigate, resolve).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
)

// timeline merges the incident's events, its alerts' transitions, the
// deliveries of its pages and the chat messages, in time order.
func timeline(inc incidents.Incident, trs []alerts.Transition, pages []incidents.Page, chat []ChatMessage, fm FrontMatter, im Impact) []Row {
	var rows []Row
	marked := map[string]bool{}
	mark := func(m string) string {
		if m == "" || marked[m] {
			return ""
		}
		marked[m] = true
		return m
	}
	for _, t := range trs {
		text := fmt.Sprintf("%s %s", t.Name(), t.State)
		if t.Summary != "" {
			text += ": " + t.Summary
		}
		if ls := identifying(t.Labels); ls != "" {
			text += " " + ls
		}
		m := ""
		if t.State != alerts.StateResolved && t.At.Equal(fm.Started) {
			m = mark("started")
		}
		rows = append(rows, Row{At: t.At, Source: "alert", Text: text, Marker: m})
	}
	for _, e := range inc.Timeline {
		src := "incident"
		if e.Source != "" {
			src = e.Source
		}
		rows = append(rows, Row{At: e.At, Source: src, Text: e.Text, Actor: e.Actor, Marker: mark(eventMarkers[e.Kind])})
	}
	for _, p := range pages {
		switch {
		case !p.SentAt.IsZero():
			rows = append(rows, Row{At: p.SentAt, Source: "page", Text: fmt.Sprintf("page to %s delivered (step %d %s)", p.Target, p.Step+1, p.StepName)})
		case p.LastError != "":
			rows = append(rows, Row{At: p.CreatedAt, Source: "page", Text: fmt.Sprintf("page to %s not delivered after %d attempts: %s", p.Target, p.Attempts, p.LastError)})
		}
	}
	for _, c := range chat {
		src := "chat"
		if c.Channel != "" {
			src = "chat " + c.Channel
		}
		rows = append(rows, Row{At: c.At, Source: src, Text: c.Text, Actor: c.Author})
	}
	if !marked["started"] && !fm.Started.IsZero() && fm.Started.Before(fm.Detected) {
		text := "the alert's condition began"
		if im.HeldRule != "" {
			text = "the condition of " + im.HeldRule + " began to hold (its query, to " + Duration(im.Step) + ")"
		}
		rows = append(rows, Row{At: fm.Started, Source: "metrics", Text: text, Marker: "started"})
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return a.At.Compare(b.At) })
	return rows
}

// identifying writes the labels of a transition that tell its series
// apart, without the alert name, severity and service already said.
func identifying(ls labels.Labels) string {
	var parts []string
	ls.Range(func(l labels.Label) {
		switch l.Name {
		case labels.AlertName, "severity", "service":
			return
		}
		parts = append(parts, l.Name+"="+strconv.Quote(l.Value))
	})
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// escalation is the pages in order with the acknowledgement each led to.
func escalation(inc incidents.Incident, pages []incidents.Page) []PageRow {
	type ack struct {
		at time.Time
		by string
	}
	var acks []ack
	for _, e := range inc.Timeline {
		if e.Kind == "acknowledged" {
			acks = append(acks, ack{e.At, e.Actor})
		}
	}
	var out []PageRow
	for i, p := range pages {
		r := PageRow{At: p.CreatedAt, Step: p.Step + 1, StepName: p.StepName, Target: p.Target, Kind: p.Kind, DeliveredAt: p.SentAt, Error: p.LastError}
		// The round of pages ends at the next page created later.
		var next time.Time
		for _, q := range pages[i+1:] {
			if q.CreatedAt.After(p.CreatedAt) {
				next = q.CreatedAt
				break
			}
		}
		for _, a := range acks {
			if !a.at.Before(p.CreatedAt) && (next.IsZero() || a.at.Before(next)) {
				r.AckedAt, r.AckedBy = a.at, a.by
				break
			}
		}
		out = append(out, r)
	}
	return out
}

// figures are the response's durations.
func figures(fm FrontMatter) []Figure {
	f := func(name string, from, to time.Time, fromName, toName string) Figure {
		fig := Figure{Name: name, From: fromName, To: toName}
		if !from.IsZero() && !to.IsZero() {
			fig.Value, fig.Known = to.Sub(from), true
		}
		return fig
	}
	impactEnd, endName := fm.Mitigated, "mitigated"
	if impactEnd.IsZero() {
		impactEnd, endName = fm.Resolved, "resolved"
	}
	return []Figure{
		f("Time to detect", fm.Started, fm.Detected, "started", "detected"),
		f("Time to acknowledge", fm.Detected, fm.Acknowledged, "detected", "acknowledged"),
		f("Time to mitigate", fm.Detected, fm.Mitigated, "detected", "mitigated"),
		f("Time to resolve", fm.Detected, fm.Resolved, "detected", "resolved"),
		f("Impact", fm.Started, impactEnd, "started", endName),
	}
}
