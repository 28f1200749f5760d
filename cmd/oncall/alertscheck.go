package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/alerts/lint"
	oncallapp "github.com/oncallhq/oncall/app"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/secret"
)

// Exit statuses of `oncall alerts check`.
const (
	checkExitFindings = 1 // errors found (or warnings, with --strict)
	checkExitUnusable = 2 // the rule files or the configuration cannot be read
)

// alertCheckCmd is `oncall alerts check`.
func (a *cli) alertCheckCmd() *cobra.Command {
	var offline, strict bool
	var scrape, eval string
	var maxSeries, maxSamples int
	var disable []string
	c := &cobra.Command{
		Use:   "check [FILE...]",
		Short: "Lint rule files: paging hygiene, templates, timing, PromQL, and the series at the source",
		Long: `check lints Prometheus rule files (the FILEs, else the configuration's
alerts.rule_files). Every finding has a stable id, a severity, file:line, group,
rule, message and (in JSON) a hint.

An alert pages when its severity label is page or critical, when it has none,
or when it is a template. With a metrics source (the oncall server, else
metrics.prometheus.url), check also counts the series each selector selects;
with --offline, or when no source answers, those checks are skipped and the
output says so.

Exit status: 0 when nothing (or only warnings) was found, 1 when errors were
found (or warnings, with --strict), 2 when a rule file or the configuration
cannot be read or parsed (each problem named file:line on stderr).

A rule turns checks off with a comment in it:  # oncall-check: ignore OC105

Checks:
` + checkList(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			for _, id := range disable {
				if _, ok := lint.CheckByID(strings.ToUpper(strings.TrimSpace(id))); !ok {
					return fmt.Errorf("--disable %q: no such check (see oncall alerts check --help)", id)
				}
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return a.unusable(err)
			}
			// Without FILE…, what oncall runs: the rule files and the rules
			// generated from the catalogue's SLOs and KPIs.
			var generated []alerts.GeneratedFile
			var errs []error
			if len(args) == 0 {
				var problems []alerts.FileProblem
				generated, problems = oncallapp.RuleGenerator(cfg)()
				for _, p := range problems {
					errs = append(errs, p)
				}
			}
			var paths []string
			if len(args) > 0 || len(cfg.Alerts.RuleFiles) > 0 || len(generated) == 0 {
				if paths, err = ruleFilePaths(args, cfg.Alerts.RuleFiles); err != nil {
					return a.unusable(err)
				}
			}
			var files []*lint.File
			for _, g := range generated {
				f, err := lint.ParseFile(g.Name, g.Content)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				files = append(files, f)
			}
			for _, p := range paths {
				f, err := lint.ReadFile(p)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				files = append(files, f)
			}
			if len(errs) > 0 {
				return a.unusable(errors.Join(errs...))
			}
			opts := lint.Options{Now: time.Now(), EvaluationInterval: cfg.Alerts.EvaluationInterval, ScrapeInterval: cfg.Metrics.Scrape.Interval,
				MaxSeries: maxSeries, MaxSamples: maxSamples, Disabled: disable}
			for _, fl := range []struct {
				name, val string
				to        *time.Duration
			}{{"evaluation-interval", eval, &opts.EvaluationInterval}, {"scrape-interval", scrape, &opts.ScrapeInterval}} {
				if fl.val == "" {
					continue
				}
				d, err := model.ParseDuration(fl.val)
				if err != nil || d <= 0 {
					return fmt.Errorf("--%s %q: want a duration like 15s or 1m", fl.name, fl.val)
				}
				*fl.to = time.Duration(d)
			}
			if offline {
				opts.NoSourceReason = "--offline"
			} else {
				opts.Source, opts.SourceName, opts.NoSourceReason = checkSource(cmd.Context(), cfg)
			}
			rep := lint.Lint(cmd.Context(), files, opts)
			if a.output == "json" {
				err = writeJSON(cmd.OutOrStdout(), rep)
			} else {
				err = rep.WriteTable(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if rep.Failed(strict) {
				return errSilent
			}
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&offline, "offline", false, "do not ask any metrics source: skip the series checks (OC301-OC303)")
	f.BoolVar(&strict, "strict", false, "exit 1 on warnings too")
	f.StringVar(&scrape, "scrape-interval", "", "how often the source scrapes, for rate() ranges (default: the configuration's metrics.scrape.interval)")
	f.StringVar(&eval, "evaluation-interval", "", "interval of groups that set none (default: the configuration's alerts.evaluation_interval)")
	f.IntVar(&maxSeries, "max-series", lint.DefaultMaxSeries, "a rule touching more series at the source is expensive (negative: no limit)")
	f.IntVar(&maxSamples, "max-samples", lint.DefaultMaxSamples, "a rule whose range selectors read more samples is expensive (negative: no limit)")
	f.StringSliceVar(&disable, "disable", nil, "checks to skip, by id (OC105,OC504)")
	a.addOutputFlag(c)
	return c
}

// unusable is why the rules could not be checked, exiting with status 2,
// which tells a CI job "could not check" from "found problems".
func (a *cli) unusable(err error) error {
	return exitError{code: checkExitUnusable, err: err}
}

// ruleFilePaths is the files to check: the arguments, else every file the
// configured patterns match.
func ruleFilePaths(args, patterns []string) ([]string, error) {
	if len(args) > 0 {
		var out []string
		for _, a := range args {
			if !slices.ContainsFunc(out, func(p string) bool { return filepath.Clean(p) == filepath.Clean(a) }) {
				out = append(out, a) // a file given twice would duplicate every rule
			}
		}
		return out, nil
	}
	if len(patterns) == 0 {
		return nil, errors.New("no rule files: give FILE… or set alerts.rule_files in the configuration")
	}
	var out []string
	var errs []error
	for _, pat := range patterns {
		m, err := filepath.Glob(pat)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("alerts.rule_files: bad pattern %q: %w", pat, err))
		case len(m) == 0:
			errs = append(errs, fmt.Errorf("alerts.rule_files: %q matches no file", pat))
		}
		slices.Sort(m)
		for _, p := range m {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, errors.Join(errs...)
}

// checkSource is what the series checks ask: the oncall server, else the
// configured Prometheus; without either, why not.
func checkSource(ctx context.Context, cfg config.Config) (lint.Querier, string, string) {
	var why []string
	c, err := findServer(ctx, cfg)
	if err == nil {
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = c.Healthy(hctx)
		cancel()
		if err == nil {
			return c, "oncall server " + secret.Redact(c.URL()), ""
		}
		why = append(why, "the oncall server "+secret.Redact(c.URL())+" does not answer: "+err.Error())
	} else {
		why = append(why, "no oncall server")
	}
	if cfg.Metrics.Prometheus.URL == "" {
		return nil, "", secret.Redact(strings.Join(append(why, "metrics.prometheus.url is not set"), "; "))
	}
	p, err := prometheusSource(ctx, cfg)
	if err != nil {
		return nil, "", secret.Redact(strings.Join(append(why, err.Error()), "; "))
	}
	return p, "Prometheus " + secret.Redact(cfg.Metrics.Prometheus.URL), ""
}

// checkList is the checks for the help text.
func checkList() string {
	var b strings.Builder
	for _, c := range lint.Checks {
		mark := ""
		if c.Source {
			mark = " (source)"
		}
		fmt.Fprintf(&b, "  %s %-7s %s%s: %s\n", c.ID, c.Severity, c.Name, mark, c.Doc)
	}
	return b.String()
}
