package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts/ruletest"
)

// ruleTestCmd is `oncall alerts test` (and `oncall rules test`).
func (a *cli) ruleTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE...",
		Short: "Run rule unit tests in promtool's format, with Prometheus's own rule engine",
		Long: `test runs rule unit-test files written for "promtool test rules": input_series in
the expanding notation, alert_rule_test and promql_expr_test at any eval_time,
external_labels, external_url, group_eval_order, start_timestamp. Every file runs,
whatever the others did; the exit status is 1 if any failed. A rule set is known
to page exactly when it should before it pages anybody.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			results := ruletest.Run(args...)
			failed := printRuleTests(cmd.OutOrStdout(), results)
			if failed > 0 {
				fmt.Fprintf(os.Stderr, "oncall: %d of %d rule test files failed\n", failed, len(args))
				return errSilent
			}
			return nil
		},
	}
}

// printRuleTests writes each file's verdict and failures; it returns how
// many files failed.
func printRuleTests(w io.Writer, results []ruletest.Result) int {
	failed := 0
	for _, r := range results {
		fmt.Fprintf(w, "Unit Testing: %s\n", r.File)
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "  WARNING: %s\n", warn)
		}
		if r.Passed() {
			fmt.Fprintln(w, "  SUCCESS")
			continue
		}
		failed++
		fmt.Fprintln(w, "  FAILED:")
		if r.Err != nil {
			for _, line := range strings.Split(r.Err.Error(), "\n") {
				fmt.Fprintln(w, "    "+line)
			}
		}
		for _, f := range r.Failures {
			fmt.Fprintln(w, "    "+strings.ReplaceAll(f.String(), "\n", "\n    "))
		}
	}
	return failed
}

func (a *cli) rulesCmd() *cobra.Command {
	c := &cobra.Command{Use: "rules", Short: "Rules: unit-test them (the same as oncall alerts test)"}
	c.AddCommand(a.ruleTestCmd())
	return c
}
