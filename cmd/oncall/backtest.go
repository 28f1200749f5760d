package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/alerts/backtest"
	oncallapp "github.com/oncallhq/oncall/app"
	"github.com/oncallhq/oncall/config"
)

// alertBacktestCmd is `oncall alerts backtest`: the rules replayed over
// the metrics' history, the noise report.
func (a *cli) alertBacktestCmd() *cobra.Command {
	var since, until, recorded string
	flap := duration(time.Hour)
	var pageSeverities []string
	var top, concurrency, maxPoints int
	var episodes bool
	c := &cobra.Command{
		Use:   "backtest [FILE...]",
		Short: "Replay alerting rules over the metrics' history: how often each would have fired, flapped and paged",
		Long: `backtest replays the alerting rules of the files (default: alerts.rule_files)
over the history of the configured Prometheus (metrics.prometheus.url, else the
oncall server's metrics) and reports, noisiest first, for each rule: how many
times it would have fired (episodes), for how long in total, median and 90th
percentile, how often it flapped (resolved, then fired again within
--flap-window plus its for), pages per week (episodes whose severity label is
one of --page-severity), how often and how long it was pending without ever
firing, and the label sets that fired most.

Each rule's expression is range-queried at its group's interval, on the
instants oncall would evaluate the group at (minus its query_offset), and the
results go through Prometheus's own alerting-rule state machine: pending at the
first true evaluation, firing once true for "for", resolved at the first false
one unless keep_firing_for holds it. The replay starts with no state: an alert
already true before --since starts pending there. Queries are split to at most
11,000 points each.

A recorded series the alerts read that the source does not have (the rules ran
nowhere, or only in oncall without remote_write) is replaced by its recording
rule's expression (--recorded expand forces it, source forbids it). A range
selector on it becomes a subquery at the recording group's interval: alerts on
another group's recorded series may start and end up to one recording interval
off.

  oncall alerts backtest --since 7d
  oncall alerts backtest --since 2026-11-01 --until 2026-11-08 rules/api.yml -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			now := time.Now()
			from, err := parseWhen(since, now)
			if err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			if from.IsZero() {
				return errors.New("--since: say from when, e.g. 7d")
			}
			to, err := parseWhen(until, now)
			if err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			if to.IsZero() {
				to = now
			}
			if !from.Before(to) {
				return fmt.Errorf("--since %s is not before --until %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
			}
			rec, err := backtest.ParseRecorded(recorded)
			if err != nil {
				return fmt.Errorf("--recorded: %w", err)
			}
			for _, f := range args {
				if !strings.ContainsAny(f, "*?[") {
					if _, err := os.Stat(f); err != nil {
						return fmt.Errorf("rule file %s: %w", f, errors.Unwrap(err))
					}
				}
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			files := args
			var generated []alerts.GeneratedFile
			if len(files) == 0 {
				// The configured rules: the rule files and what the
				// catalogue's SLOs and KPIs generate.
				files = cfg.Alerts.RuleFiles
				var problems []alerts.FileProblem
				generated, problems = oncallapp.RuleGenerator(cfg)()
				if len(problems) > 0 {
					errs := make([]error, len(problems))
					for i, p := range problems {
						errs[i] = p
					}
					return errors.Join(errs...)
				}
			}
			if len(files) == 0 && len(generated) == 0 {
				return errors.New("no rule files: give them as arguments, or set alerts.rule_files or services[].slos")
			}
			src, err := backtestSource(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			rep, err := backtest.Run(cmd.Context(), src, backtest.Options{
				Files: files, Generated: generated, Since: from, Until: to, Interval: cfg.Alerts.EvaluationInterval,
				ExternalLabels: labels.FromMap(cfg.Alerts.ExternalLabels), ExternalURL: cfg.Server.ExternalURL,
				FlapWindow: time.Duration(flap), PageSeverities: pageSeverities, Recorded: rec,
				MaxPoints: maxPoints, Concurrency: concurrency, Top: top,
			})
			if err != nil {
				return err
			}
			if !episodes {
				rep = rep.WithoutEpisodes()
			}
			if a.output == "json" {
				err = writeJSON(cmd.OutOrStdout(), rep)
			} else {
				err = rep.WriteTable(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if rep.Failed() {
				fmt.Fprintln(os.Stderr, "oncall: some rules could not be replayed (see their errors)")
				return errSilent
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&since, "since", "7d", "replay from: "+whenHelp)
	f.StringVar(&until, "until", "now", "replay to: "+whenHelp)
	f.Var(&flap, "flap-window", "a rule that fires again within this (plus its for) of resolving flapped")
	f.StringSliceVar(&pageSeverities, "page-severity", []string{"critical", "page"}, "severity label values that page")
	f.StringVar(&recorded, "recorded", "auto", "recorded series: auto (expand those the source lacks), source or expand")
	f.IntVar(&top, "top", 3, "label sets listed per rule")
	f.IntVar(&concurrency, "concurrency", 4, "queries at once")
	f.IntVar(&maxPoints, "max-points", backtest.MaxPoints, "points per range query at most (smaller queries for a slow source)")
	f.BoolVar(&episodes, "episodes", false, "list every episode (with -o json)")
	a.addOutputFlag(c)
	return c
}

// backtestSource is the configured Prometheus, else the oncall server's
// query API.
func backtestSource(ctx context.Context, cfg config.Config) (backtest.Source, error) {
	if cfg.Metrics.Prometheus.URL != "" {
		return prometheusSource(ctx, cfg)
	}
	c, err := findServer(ctx, cfg)
	if errors.Is(err, errNoServer) {
		return nil, errors.New("no metrics source to replay the rules over: set metrics.prometheus.url ($ONCALL_METRICS_PROMETHEUS_URL) to a Prometheus with the history, or server.url to a running oncall serve")
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}
