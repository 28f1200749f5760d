package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) serveCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the alert engine, escalation and API server (no TUI)",
		Long: `serve evaluates the rules, opens and escalates incidents, delivers pages and
serves the JSON API, /healthz and /metrics. State lives in SQLite in the state
directory; a restart picks up every open incident and alert where it was.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.bindListen(cmd); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			log := a.logger()
			s, err := newStack(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer s.close()
			log.Info("oncall serving", "url", s.url(), "state", cfg.StatePath(), "rule_files", len(cfg.Alerts.RuleFiles))
			fmt.Fprintf(cmd.ErrOrStderr(), "oncall: serving on %s (state in %s)\n", s.url(), cfg.StatePath())
			return s.run(cmd.Context())
		},
	}
	c.Flags().String("listen", "", "listen address (config server.listen, env ONCALL_SERVER_LISTEN)")
	return c
}

func (a *app) bindListen(cmd *cobra.Command) error {
	return a.v.BindPFlag("server.listen", cmd.Flags().Lookup("listen"))
}
