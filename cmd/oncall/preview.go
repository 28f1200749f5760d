package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/app"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/notify/console"
	"github.com/oncallhq/oncall/notify/webhook"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/termtext"
)

func (a *cli) alertPreviewCmd() *cobra.Command {
	var offline bool
	c := &cobra.Command{
		Use:   "preview ALERT",
		Short: "Show an alert as each receiver would get it if it fired now: the page, the console line, the webhook payload",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			p, err := buildPreview(cmd.Context(), cfg, args[0], offline, time.Now())
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), p)
			}
			return printPreview(cmd.OutOrStdout(), p)
		},
	}
	c.Flags().BoolVar(&offline, "offline", false, "do not query the metrics source: show an example result")
	a.addOutputFlag(c)
	return c
}

// preview is an alert as it would reach each receiver.
type preview struct {
	Rule string `json:"rule"`
	// Where is the rule's file:line.
	Where string `json:"where"`
	// Example says no series answered: the alert is built from an example
	// result (the selectors' label values, the threshold as value).
	Example bool           `json:"example"`
	Alert   alerts.Alert   `json:"alert"`
	Missing []string       `json:"missing,omitempty"`
	Routes  []previewRoute `json:"routes"`
}

type previewRoute struct {
	Route        string               `json:"route"`
	Receiver     string               `json:"receiver"`
	GroupKey     string               `json:"group_key"`
	Integrations []previewIntegration `json:"integrations"`
}

type previewIntegration struct {
	Kind  string `json:"kind"`
	Index int    `json:"index"`
	// Exactly one of these says what it gets.
	Incident *incidents.Incident `json:"incident,omitempty"`
	Pages    []incidents.Page    `json:"pages,omitempty"`
	Console  []string            `json:"console,omitempty"`
	Payload  *webhook.Payload    `json:"payload,omitempty"`
	Note     string              `json:"note,omitempty"`
}

// buildPreview evaluates the named alerting rule once (against the
// metrics source unless offline) and routes the first alert it makes.
func buildPreview(ctx context.Context, cfg config.Config, name string, offline bool, now time.Time) (preview, error) {
	set, err := app.LoadRules(cfg)
	if err != nil {
		return preview{}, err
	}
	var rule *alerts.Rule
	var names []string
	for i, r := range set.Rules {
		if !r.Record {
			names = append(names, r.Name)
			if r.Name == name && rule == nil {
				rule = &set.Rules[i]
			}
		}
	}
	if rule == nil {
		slices.Sort(names)
		return preview{}, fmt.Errorf("no alerting rule %q in alerts.rule_files (alerts: %s)", name, strings.Join(slices.Compact(names), ", "))
	}
	external := cfg.Server.ExternalURL
	if external == "" {
		external = "http://" + cfg.Server.Listen
	}
	o := alerts.PreviewOptions{ExternalLabels: labels.FromMap(cfg.Alerts.ExternalLabels), ExternalURL: external}
	if !offline {
		if q, err := querier(ctx, cfg); err == nil {
			o.Query = resultQuery(q)
		}
	}
	as, example, err := alerts.Preview(ctx, *rule, now, o)
	if err != nil {
		return preview{}, err
	}
	p := preview{Rule: rule.Name, Where: rule.Where(), Example: example, Alert: as[0]}
	p.Missing = missingFor3am(cfg, p.Alert)
	rc, err := cfg.Routing()
	if err != nil {
		return preview{}, err
	}
	settings := cfg.IncidentSettings()
	own := map[string]config.Receiver{}
	for _, r := range cfg.OwnReceivers() {
		own[r.Name] = r
	}
	for _, route := range rc.Root.Match(p.Alert.Labels) {
		gl := route.GroupLabels(p.Alert.Labels)
		pr := previewRoute{Route: route.Key(), Receiver: route.Receiver, GroupKey: route.GroupKey(gl)}
		n := &notify.Notification{Receiver: route.Receiver, GroupKey: pr.GroupKey, GroupLabels: gl, Alerts: as[:1], At: now}
		if r, ok := own[route.Receiver]; ok && r.Incident != nil {
			inc, pages, err := incidents.Preview(settings, r.Incident.Policy, incidents.Alarm{Receiver: route.Receiver, GroupKey: pr.GroupKey, Firing: as[:1], Severity: r.Incident.Severity}, now)
			in := previewIntegration{Kind: "incident", Incident: &inc, Pages: pages}
			if err != nil {
				in.Note = err.Error()
			}
			for _, pg := range pages {
				in.Console = append(in.Console, console.NewRecord(notify.Message{Kind: notify.KindPage, Page: &pg, CreatedAt: now}).Text)
			}
			pr.Integrations = append(pr.Integrations, in)
		}
		if r, ok := own[route.Receiver]; ok && r.Console {
			cn := *n
			cn.Integration = "console"
			pr.Integrations = append(pr.Integrations, previewIntegration{Kind: "console",
				Console: []string{console.NewRecord(notify.Message{Kind: notify.KindNotification, Notification: &cn, CreatedAt: now}).Text}})
		}
		if amr, ok := rc.Receiver(route.Receiver); ok {
			for i := range amr.WebhookConfigs {
				wn := *n
				wn.Integration, wn.Index = "webhook", i
				pl := webhook.NewPayload(&wn, external, amr.WebhookConfigs[i].MaxAlerts)
				pr.Integrations = append(pr.Integrations, previewIntegration{Kind: "webhook", Index: i, Payload: &pl})
			}
			for _, in := range routing.Integrations(amr) {
				if in.Kind != "webhook" {
					pr.Integrations = append(pr.Integrations, previewIntegration{Kind: in.Kind, Index: in.Index, Note: "sent by Alertmanager's own " + in.Kind + " notifier, with the configuration's templates"})
				}
			}
		}
		// The page first: it is what wakes someone.
		rank := map[string]int{"incident": 0, "console": 1, "webhook": 2}
		slices.SortStableFunc(pr.Integrations, func(a, b previewIntegration) int {
			ra, oka := rank[a.Kind]
			rb, okb := rank[b.Kind]
			if !oka {
				ra = 3
			}
			if !okb {
				rb = 3
			}
			if ra != rb {
				return ra - rb
			}
			return strings.Compare(a.Kind, b.Kind)
		})
		p.Routes = append(p.Routes, pr)
	}
	return p, nil
}

// resultQuery adapts a querier's instant queries to rule evaluation.
func resultQuery(q querierSource) alerts.QueryFunc {
	return func(ctx context.Context, expr string, t time.Time) (promql.Vector, error) {
		r, err := q.Query(ctx, expr, t)
		if err != nil {
			return nil, err
		}
		if r.Type != metrics.TypeVector {
			return nil, fmt.Errorf("the expression returns a %s, not a vector", r.Type)
		}
		out := make(promql.Vector, len(r.Vector))
		for i, s := range r.Vector {
			out[i] = promql.Sample{Metric: s.Labels, T: t.UnixMilli(), F: s.Value}
		}
		return out, nil
	}
}

// missingFor3am lists what a page about the alert lacks to be acted on
// half awake: what is wrong, what to do, where to look, whose it is.
func missingFor3am(cfg config.Config, a alerts.Alert) []string {
	var out []string
	for _, an := range []string{"summary", "description", "runbook_url"} {
		if a.Annotations.Get(an) == "" {
			out = append(out, "annotation "+an)
		}
	}
	for _, l := range []string{"severity", "service"} {
		if a.Labels.Get(l) == "" {
			out = append(out, "label "+l)
		}
	}
	if svc := a.Labels.Get("service"); svc != "" && !strings.HasPrefix(svc, "<") {
		s, ok := cfg.Catalog().Get(svc)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("service %q in the catalogue", svc))
		case s.Dashboard == "" && a.Annotations.Get("dashboard") == "":
			out = append(out, "a dashboard (the catalogue's service or a dashboard annotation)")
		}
	}
	return out
}

func printPreview(w io.Writer, p preview) error {
	fmt.Fprintf(w, "%s (%s)\n", termtext.Clean(p.Rule), termtext.Clean(p.Where))
	if p.Example {
		fmt.Fprintln(w, "  no series answers now: an example result stands in (the selectors' label values, the threshold as value)")
	}
	fmt.Fprintf(w, "\n%-12s %s\n", "labels", termtext.Clean(p.Alert.Labels.String()))
	// What a human reads first, then the rest.
	first := []string{"summary", "description", "runbook_url", "dashboard"}
	for _, n := range first {
		if v := p.Alert.Annotations.Get(n); v != "" {
			fmt.Fprintf(w, "%-12s %s\n", n, termtext.Clean(v))
		}
	}
	p.Alert.Annotations.Range(func(l labels.Label) {
		if !slices.Contains(first, l.Name) {
			fmt.Fprintf(w, "%-12s %s\n", termtext.Clean(l.Name), termtext.Clean(l.Value))
		}
	})
	fmt.Fprintf(w, "%-12s %s\n", "query", termtext.Clean(p.Alert.GeneratorURL))
	if len(p.Missing) > 0 {
		fmt.Fprintf(w, "\nat 3 a.m. it lacks: %s\n", strings.Join(p.Missing, ", "))
	} else {
		fmt.Fprintln(w, "\nat 3 a.m.: what is wrong, what to do, where to look and whose it is are all there")
	}
	for _, r := range p.Routes {
		fmt.Fprintf(w, "\n→ receiver %s (route %s, group %s)\n", termtext.Clean(r.Receiver), termtext.Clean(r.Route), termtext.Clean(r.GroupKey))
		if len(r.Integrations) == 0 {
			fmt.Fprintln(w, "  no integrations: nobody is told")
		}
		for _, in := range r.Integrations {
			fmt.Fprintf(w, "  %s", in.Kind)
			if in.Kind == "webhook" || in.Note != "" && in.Kind != "incident" {
				fmt.Fprintf(w, " %d", in.Index)
			}
			fmt.Fprintln(w)
			if in.Incident != nil {
				fmt.Fprintf(w, "    opens %s: %s\n", in.Incident.Severity, termtext.Clean(in.Incident.Title))
				for _, pg := range in.Pages {
					fmt.Fprintf(w, "    page to %s (step %d, %s)\n      %s\n", termtext.Clean(pg.Target), pg.Step+1, termtext.Clean(pg.StepName), termtext.Clean(pg.Subject))
					for _, line := range strings.Split(pg.Body, "\n") {
						fmt.Fprintf(w, "      %s\n", termtext.Clean(line))
					}
				}
				if len(in.Pages) == 0 {
					fmt.Fprintln(w, "    pages nobody now")
				}
			}
			if in.Note != "" {
				fmt.Fprintf(w, "    %s\n", termtext.Clean(in.Note))
			}
			if in.Kind == "console" {
				for _, line := range in.Console {
					fmt.Fprintf(w, "    %s\n", termtext.Clean(line))
				}
			}
			if in.Payload != nil {
				b, _ := json.MarshalIndent(in.Payload, "    ", "  ")
				fmt.Fprintf(w, "    %s\n", b)
			}
		}
	}
	return nil
}
