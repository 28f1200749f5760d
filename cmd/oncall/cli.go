package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

func (a *cli) queryCmd() *cobra.Command {
	var at string
	c := &cobra.Command{
		Use:   "query EXPR",
		Short: "Evaluate a PromQL expression on the configured server or Prometheus",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			ts := time.Now()
			if at != "" {
				if ts, err = parseWhen(at, ts); err != nil {
					return fmt.Errorf("--time: %w", err)
				}
			}
			var v metrics.Vector
			if cfg.Server.URL != "" {
				c, err := client.New(cfg.Server.URL, cfg.Server.Token)
				if err != nil {
					return err
				}
				v, err = c.Query(cmd.Context(), args[0], ts)
				if err != nil {
					return err
				}
			} else {
				src, err := prometheusSource(cmd.Context(), cfg)
				if err != nil {
					return err
				}
				if v, err = src.Instant(cmd.Context(), args[0], ts); err != nil {
					return err
				}
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			return printVector(cmd.OutOrStdout(), v)
		},
	}
	c.Flags().StringVar(&at, "time", "", "evaluation time (default now): "+whenHelp)
	a.addOutputFlag(c)
	return c
}

// prometheusSource is the configured Prometheus, checked reachable.
func prometheusSource(ctx context.Context, cfg config.Config) (*metrics.Prometheus, error) {
	if cfg.Metrics.Prometheus.URL == "" {
		return nil, errors.New("no metrics source to ask: set server.url (a running oncall serve) or metrics.prometheus.url")
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

func printVector(w io.Writer, v metrics.Vector) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIES\tVALUE")
	for _, s := range v {
		name := s.Labels.String()
		if name == "{}" {
			name = "scalar"
		}
		fmt.Fprintf(tw, "%s\t%g\n", name, s.Value)
	}
	return tw.Flush()
}

func (a *cli) alertsCmd() *cobra.Command {
	c := &cobra.Command{Use: "alerts", Short: "Alerts: list what is pending and firing"}
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
	c.AddCommand(list)
	return c
}

func listAlerts(ctx context.Context, cfg config.Config) ([]alerts.Alert, error) {
	if cfg.Server.URL != "" {
		c, err := client.New(cfg.Server.URL, cfg.Server.Token)
		if err != nil {
			return nil, err
		}
		return c.Alerts(ctx)
	}
	src, err := prometheusSource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	set, err := alerts.LoadRuleFiles(cfg.Alerts.RuleFiles)
	if err != nil {
		return nil, err
	}
	// One evaluation: `for` clocks start now, so alerts with a `for` show as pending.
	now := time.Now()
	ras, err := alerts.NewEvaluator(set.Rules, src).Eval(ctx, now)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stateOf(al), al.Name(), al.Severity(), al.Labels.Get("service"),
			now.Sub(al.StartsAt).Truncate(time.Second), strings.ReplaceAll(al.Summary(), "\n", " "))
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
			var present []string // a missing one is the configuration's problem
			for _, pat := range cfg.Alerts.RuleFiles {
				if m, _ := filepath.Glob(pat); len(m) > 0 {
					present = append(present, pat)
				}
			}
			set, rerr := alerts.LoadRuleFiles(present)
			if cerr != nil || rerr != nil {
				return errors.Join(cerr, rerr)
			}
			where := cfg.File
			if where == "" {
				where = "built-in defaults"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d alerting rules, %d schedules, %d policies)\n", where, len(set.Rules), len(cfg.Schedules), len(cfg.Policies))
			return nil
		},
	})
	return c
}
