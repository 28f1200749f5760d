package main

import (
	"fmt"

	"github.com/spf13/cobra"

	oncallapp "github.com/oncallhq/oncall/app"
)

func (a *cli) serveCmd() *cobra.Command {
	var adopt bool
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the alert engine, escalation and API server (no TUI)",
		Long: `serve evaluates the rules, opens and escalates incidents, delivers pages and
serves the JSON API, Alertmanager's API v2 (point a Prometheus's alerting
config here), /-/healthy, /-/ready (alias /healthz) and /metrics. State lives in SQLite in the state
directory; a restart picks up every open incident, alert group, silence and
queued page where it was. Several serve processes may share one state
directory: one runs the pipeline, the others stand by.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.bindListen(cmd); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			log := a.logger(cfg)
			s, err := oncallapp.New(cmd.Context(), cfg, log, oncallapp.Options{AdoptStore: adopt, Command: "oncall serve"})
			if err != nil {
				return err
			}
			defer s.Close()
			log.Info("oncall serving", "url", s.URL(), "state", cfg.StatePath(), "rule_files", len(cfg.Alerts.RuleFiles))
			fmt.Fprintf(cmd.ErrOrStderr(), "oncall: serving on %s (state in %s)\n", s.URL(), cfg.StatePath())
			return s.Run(cmd.Context())
		},
	}
	c.Flags().String("listen", "", "listen address (config server.listen, env ONCALL_SERVER_LISTEN)")
	c.Flags().BoolVar(&adopt, "adopt-store", false, "carry on with an oncall.db other than the one this state directory had (it was emptied or replaced)")
	return c
}

func (a *cli) bindListen(cmd *cobra.Command) error {
	return a.v.BindPFlag("server.listen", cmd.Flags().Lookup("listen"))
}
