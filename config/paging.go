package config

// PagerDuty configures paging through PagerDuty's Events API v2. A user
// with a pagerduty_key (the integration key of a PagerDuty service that
// notifies that person) is paged there as well as on the console; the
// page is acknowledged and resolved there when the incident is here.
type PagerDuty struct {
	// EventsURL replaces https://events.pagerduty.com (a proxy, a test
	// server).
	EventsURL string `yaml:"events_url"`
}

// Secrets are the configuration's credentials, hidden wherever they would
// be printed (log records, errors).
func (c Config) Secrets() []string {
	out := []string{c.Server.Token, c.Metrics.Prometheus.BearerToken, c.Alerts.RemoteWrite.BearerToken,
		c.Slack.AppToken, c.Slack.BotToken, c.Slack.SigningSecret}
	for _, u := range c.Users {
		out = append(out, u.PagerDutyKey)
	}
	return append(out, c.Checklists.Secrets()...)
}
