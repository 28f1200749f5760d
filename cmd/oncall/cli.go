package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/app"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/termtext"
)

func (a *cli) queryCmd() *cobra.Command {
	var at, from, to string
	var span, step duration
	c := &cobra.Command{
		Use:   "query EXPR",
		Short: "Evaluate PromQL on the configured server or Prometheus, at an instant or over a range",
		Long: `query evaluates a PromQL expression on the running oncall server (its embedded
TSDB or the Prometheus behind it) or on metrics.prometheus.url.

An instant query prints each series and value; a range selector such as
up[5m] prints each series' samples. With --range (or --start) it runs a range
query and prints each series over time.

  oncall query 'sum by (job) (rate(http_requests_total[5m]))'
  oncall query 'up[2m]' --time 1h
  oncall query 'histogram_quantile(0.99, sum by (le) (rate(latency_bucket[5m])))' --range 1h --step 1m`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			now := time.Now()
			end, err := parseWhen(at, now)
			if err != nil {
				return fmt.Errorf("--time: %w", err)
			}
			if to != "" {
				if end, err = parseWhen(to, now); err != nil {
					return fmt.Errorf("--end: %w", err)
				}
			}
			if end.IsZero() {
				end = now
			}
			var start time.Time
			switch {
			case from != "" && span != 0:
				return errors.New("--start and --range: give one")
			case from != "":
				if start, err = parseWhen(from, now); err != nil {
					return fmt.Errorf("--start: %w", err)
				}
			case span != 0:
				start = end.Add(-time.Duration(span))
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			q, err := querier(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			var res metrics.Result
			if start.IsZero() {
				if res, err = q.Query(cmd.Context(), args[0], end); err != nil {
					return err
				}
			} else {
				if !start.Before(end) {
					return fmt.Errorf("the range starts at %s, not before its end %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
				}
				st := time.Duration(step)
				if st <= 0 {
					st = autoStep(end.Sub(start))
				}
				ss, err := q.Range(cmd.Context(), args[0], start, end, st)
				if err != nil {
					return err
				}
				res = metrics.Result{Type: metrics.TypeMatrix, Matrix: ss, T: end}
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return printResult(cmd.OutOrStdout(), res)
		},
	}
	f := c.Flags()
	f.StringVar(&at, "time", "", "evaluation time, or end of the range (default now): "+whenHelp)
	f.Var(&span, "range", "run a range query over this long, ending at --time (e.g. 1h)")
	f.StringVar(&from, "start", "", "run a range query from this time: "+whenHelp)
	f.StringVar(&to, "end", "", "end of a range query (same as --time)")
	f.Var(&step, "step", "resolution of a range query (default: the range / 60, at least 1s)")
	a.addOutputFlag(c)
	return c
}

// autoStep is the step of a range query when none is given: sixty points,
// on whole seconds.
func autoStep(span time.Duration) time.Duration {
	return max(time.Second, (span / 60).Truncate(time.Second))
}

// querierSource is what `oncall query` asks: the server, else the
// configured Prometheus.
type querierSource interface {
	Query(ctx context.Context, expr string, at time.Time) (metrics.Result, error)
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error)
}

func querier(ctx context.Context, cfg config.Config) (querierSource, error) {
	c, err := findServer(ctx, cfg)
	if errors.Is(err, errNoServer) && cfg.Metrics.Prometheus.URL != "" {
		return prometheusSource(ctx, cfg)
	}
	return c, err
}

// prometheusSource is the configured Prometheus, checked reachable.
func prometheusSource(ctx context.Context, cfg config.Config) (*metrics.Prometheus, error) {
	if cfg.Metrics.Prometheus.URL == "" {
		return nil, errors.New("no metrics source to ask: run oncall serve, or set server.url or metrics.prometheus.url")
	}
	p, err := metrics.NewPrometheus(metrics.PrometheusOptions{URL: cfg.Metrics.Prometheus.URL, BearerToken: cfg.Metrics.Prometheus.BearerToken, Timeout: cfg.Metrics.Prometheus.Timeout})
	if err != nil {
		return nil, fmt.Errorf("metrics.prometheus.url: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Ping(ctx); err != nil {
		return nil, fmt.Errorf("metrics.prometheus.url: %w", err)
	}
	return p, nil
}

// printResult prints a query result as a table: one row per series (or
// the scalar, or the string); a matrix lists each series' samples.
func printResult(w io.Writer, r metrics.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch r.Type {
	case metrics.TypeString:
		fmt.Fprintln(w, termtext.Clean(r.String))
		return nil
	case metrics.TypeScalar:
		fmt.Fprintln(tw, "SCALAR")
		if len(r.Vector) == 1 {
			fmt.Fprintln(tw, formatValue(r.Vector[0].Value))
		}
	case metrics.TypeMatrix:
		fmt.Fprintln(tw, "SERIES\tTIME\tVALUE")
		for _, s := range r.Matrix {
			name := termtext.Clean(s.Labels.String())
			for i, p := range s.Points {
				if i > 0 {
					name = ""
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, p.T.Local().Format("2006-01-02 15:04:05"), formatValue(p.V))
			}
		}
	default:
		fmt.Fprintln(tw, "SERIES\tVALUE")
		for _, s := range r.Vector {
			fmt.Fprintf(tw, "%s\t%s\n", termtext.Clean(s.Labels.String()), formatValue(s.Value))
		}
	}
	return tw.Flush()
}

// formatValue prints a sample value in full: 0.1, 1e+06, NaN, +Inf.
func formatValue(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (a *cli) alertsCmd() *cobra.Command {
	c := &cobra.Command{Use: "alerts", Short: "Alerts: list what is pending and firing, their history; unit-test rules"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List alerts from the server (or evaluate the rules once against Prometheus)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			as, err := listAlerts(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), as)
			}
			return printAlerts(cmd.OutOrStdout(), as, time.Now())
		},
	}
	a.addOutputFlag(list)
	c.AddCommand(list, a.alertHistoryCmd(), a.alertPreviewCmd(), a.ruleTestCmd(), a.alertCheckCmd(), a.alertBacktestCmd(), a.alertRenderCmd())
	return c
}

func (a *cli) alertHistoryCmd() *cobra.Command {
	var since, name string
	var limit int
	c := &cobra.Command{
		Use:   "history",
		Short: "When alerts began pending, began firing and resolved, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			from, err := parseWhen(since, time.Now())
			if err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			_, c, err := a.serverClient(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := c.History(cmd.Context(), from, name, limit)
			if err != nil {
				return err
			}
			if a.output == "json" {
				if ts == nil {
					ts = []alerts.Transition{}
				}
				return writeJSON(cmd.OutOrStdout(), ts)
			}
			return printHistory(cmd.OutOrStdout(), ts)
		},
	}
	c.Flags().StringVar(&since, "since", "24h", "from when: "+whenHelp)
	c.Flags().StringVar(&name, "alert", "", "only this alertname")
	c.Flags().IntVar(&limit, "limit", 1000, "at most the newest so many")
	a.addOutputFlag(c)
	return c
}

func printHistory(w io.Writer, ts []alerts.Transition) error {
	if len(ts) == 0 {
		fmt.Fprintln(w, "no alert changed state")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSTATE\tALERT\tSERVICE\tSOURCE\tSUMMARY")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.At.Local().Format("2006-01-02 15:04:05"), t.State, termtext.Clean(t.Name()),
			termtext.Clean(t.Labels.Get("service")), t.Source, termtext.Clean(t.Summary))
	}
	return tw.Flush()
}

// listAlerts asks the server, or without one evaluates the rules once
// against the configured Prometheus.
func listAlerts(ctx context.Context, cfg config.Config) ([]alerts.Alert, error) {
	c, err := findServer(ctx, cfg)
	if err == nil {
		return c.Alerts(ctx)
	}
	if !errors.Is(err, errNoServer) || cfg.Metrics.Prometheus.URL == "" {
		return nil, err
	}
	src, err := prometheusSource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	eng, err := alerts.NewEngine(alerts.EngineOptions{Files: cfg.Alerts.RuleFiles, Generate: app.RuleGenerator(cfg), Interval: cfg.Alerts.EvaluationInterval, Query: alerts.SourceQuery(src)})
	if err != nil {
		return nil, err
	}
	// One evaluation: `for` clocks start now, so alerts with a `for` show as pending.
	now := time.Now()
	if err := eng.Start(now, nil); err != nil {
		return nil, err
	}
	_, err = eng.Eval(ctx, now)
	ras := eng.Alerts()
	out := make([]alerts.Alert, len(ras))
	for i, ra := range ras {
		out[i] = ra.Alert(now, cfg.Alerts.EvaluationInterval)
	}
	return out, err
}

// stateOf names an alert's state for a table: silenced and inhibited
// alerts say so.
func stateOf(a *alerts.Alert) string {
	switch {
	case a.Status.State != alerts.StateFiring:
		return a.Status.State.String()
	case len(a.Status.SilencedBy) > 0:
		return "silenced"
	case len(a.Status.InhibitedBy) > 0:
		return "inhibited"
	}
	return "firing"
}

func printAlerts(w io.Writer, as []alerts.Alert, now time.Time) error {
	sort.SliceStable(as, func(i, j int) bool { return as[i].Status.State > as[j].Status.State })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tALERT\tSEVERITY\tSERVICE\tSINCE\tSUMMARY")
	for i := range as {
		al := &as[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stateOf(al), termtext.Clean(al.Name()), termtext.Clean(al.Severity()), termtext.Clean(al.Labels.Get("service")),
			now.Sub(al.StartsAt).Truncate(time.Second), termtext.Clean(al.Summary()))
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *cli) initCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write a commented starter configuration (default ./oncall.yaml)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "oncall.yaml"
			if len(args) == 1 {
				path = args[0]
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists (use --force to overwrite)", path)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(config.Starter); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; check it with: oncall config validate --config %s\n", path, path)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return c
}

func (a *cli) configCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Configuration: validate, show"}
	c.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration: the file with defaults, environment and flags applied; secrets masked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			b, err := cfg.Masked().YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Check the configuration and its rule files; report every problem with file, line and field",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Every problem in one run: the configuration's, then the
			// rule files' (each names its own file and line).
			cfg, cerr := a.loadConfig()
			if cerr != nil {
				cfg.Services = nil // problems of their SLOs and KPIs are in cerr, with their lines
			}
			set, rerr := app.LoadRules(cfg)
			if cerr != nil || rerr != nil {
				return errors.Join(cerr, rerr)
			}
			where := cfg.File
			if where == "" {
				where = "built-in defaults"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d alerting rules, %d recording rules, %d schedules, %d policies)\n", where, len(set.Rules)-set.Recording, set.Recording, len(cfg.Schedules), len(cfg.Policies))
			return nil
		},
	})
	return c
}
