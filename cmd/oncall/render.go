package main

import (
	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/app"
)

// alertRenderCmd prints the rules oncall generates from SLOs and KPIs.
func (a *cli) alertRenderCmd() *cobra.Command {
	var service string
	c := &cobra.Command{
		Use:   "render",
		Short: "Print the rules oncall generates from the catalogue's SLOs and KPIs and from alerts.slo_files, as one Prometheus rule file",
		Long: `render prints, as one Prometheus rule file, the recording rules and alerts
oncall generates and runs for the SLOs and KPIs of the service catalogue
(services[].slos, services[].kpis) and for the Sloth specs of
alerts.slo_files: to read what will page, to check with promtool, or to load
into a Prometheus of your own.

  oncall alerts render --service matchmaking > matchmaking.rules.yml
  promtool check rules matchmaking.rules.yml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			b, err := app.RenderRules(cfg, service)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	c.Flags().StringVar(&service, "service", "", "only the rules of this service")
	return c
}
