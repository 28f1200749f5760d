package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts"
)

func (a *cli) rulesCmd() *cobra.Command {
	c := &cobra.Command{Use: "rules", Short: "Rules: unit-test them"}
	c.AddCommand(&cobra.Command{
		Use:   "test FILE...",
		Short: "Run rule unit tests in promtool's format with oncall's evaluator",
		Long: `test runs rule unit-test files written for "promtool test rules" (input_series,
alert_rule_test with eval_time, exp_alerts) against oncall's own evaluator, so a
rule set is known to page exactly when it should before it pages anybody.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, f := range args {
				failures, err := alerts.RunRuleTests(f)
				if err != nil {
					return err
				}
				if len(failures) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: SUCCESS\n", f)
					continue
				}
				failed++
				fmt.Fprintf(cmd.OutOrStdout(), "%s: FAILED\n", f)
				for _, msg := range failures {
					fmt.Fprintln(cmd.OutOrStdout(), "  "+msg)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d rule test files failed", failed, len(args))
			}
			return nil
		},
	})
	return c
}
