// Where pages and incident news go: Slack and PagerDuty.

package config

import (
	"regexp"

	"github.com/oncallhq/oncall/incidents"
)

// Slack configures the Slack app that keeps what incident channels say.
// It takes the Events API (message.channels, message.groups,
// app_mention) over Socket Mode with AppToken (no public URL needed), or
// over HTTP at <server.external_url>/slack/events with SigningSecret.
type Slack struct {
	// AppToken (xapp-…, scope connections:write) connects over Socket
	// Mode: an outbound WebSocket, for a server Slack cannot reach.
	AppToken string `yaml:"app_token"`
	// SigningSecret verifies every request Slack sends to /slack/events
	// (the app's Basic Information, App Credentials). Without it the
	// endpoint is off.
	SigningSecret string `yaml:"signing_secret"`
	// BotToken (xoxb-…, scope chat:write) lets the bot answer in the
	// channel; optional.
	BotToken string `yaml:"bot_token"`
	// APIURL replaces https://slack.com/api/ (a proxy, a test server).
	APIURL string `yaml:"api_url"`
	// IncidentChannels opens a channel for each incident worth one.
	IncidentChannels IncidentChannels `yaml:"incident_channels"`
}

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

// IncidentChannels makes the Slack app open a channel for each incident
// worth one (scopes channels:manage, or groups:write when private, and
// chat:write), invite its people and post each change of the incident.
type IncidentChannels struct {
	Enabled bool `yaml:"enabled"`
	// Prefix begins each channel's name (default inc: inc-7-checkout-down);
	// two oncall stores in one workspace need different ones.
	Prefix string `yaml:"prefix"`
	// MinSeverity is the least severe incident opened by alerts that gets
	// a channel (default SEV2); declared incidents always get one.
	MinSeverity incidents.Severity `yaml:"min_severity"`
	Private     bool               `yaml:"private"`
}

var channelPrefixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,20}$`)

// validate reports the block's problems by field.
func (c IncidentChannels) validate(botToken string, add func(field, format string, args ...any)) {
	if c.Enabled && botToken == "" {
		add("slack.incident_channels.enabled", "needs slack.bot_token (scopes channels:manage and chat:write) to open channels")
	}
	if c.Prefix != "" && !channelPrefixRE.MatchString(c.Prefix) {
		add("slack.incident_channels.prefix", "%q: a prefix is lower-case letters, digits, - and _, beginning with a letter or digit (at most 21)", c.Prefix)
	}
}
