package config

import (
	"slices"
	"strings"
	"testing"
)

// A user's contact methods are checked by line and field; the PagerDuty
// key is a secret: masked in `config show`, listed for the logs.
func TestUserContactMethods(t *testing.T) {
	_, err := Parse("x.yaml", []byte(`users:
  - name: alice
    slack_id: alice
    pagerduty_key: short
pagerduty:
  events_url: events.pagerduty.com
`))
	for _, w := range []string{
		`x.yaml:3: users[0].slack_id: "alice" is not a Slack member ID`,
		"x.yaml:4: users[0].pagerduty_key: not an Events API v2 integration key (32 letters and digits; a service's Integrations tab), 5 characters",
		`x.yaml:6: pagerduty.events_url: not an http(s) URL: "events.pagerduty.com"`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "short") {
		t.Errorf("the error repeats the key: %v", err)
	}
	const key = "R0123456789abcdefABCDEF012345678"
	cfg, err := Parse("x.yaml", []byte("users:\n  - {name: alice, slack_id: U024BE7LH, pagerduty_key: "+key+"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if u := cfg.Users[0]; u.SlackID != "U024BE7LH" || u.PagerDutyKey != key {
		t.Fatalf("read %+v", u)
	}
	if m := cfg.Masked(); m.Users[0].PagerDutyKey != "<secret>" || m.Users[0].SlackID != "U024BE7LH" {
		t.Errorf("masked: %+v", m.Users[0])
	}
	if cfg.Users[0].PagerDutyKey != key {
		t.Error("Masked changed the configuration it copied")
	}
	if !slices.Contains(cfg.Secrets(), key) {
		t.Errorf("secrets %q lack the PagerDuty key", cfg.Secrets())
	}
}

// The incident channels' block names its mistakes by line and field.
func TestIncidentChannels(t *testing.T) {
	_, err := Parse("x.yaml", []byte(`slack:
  signing_secret: s
  incident_channels:
    enabled: true
    prefix: "Prod Incidents"
`))
	for _, w := range []string{
		"x.yaml:4: slack.incident_channels.enabled: needs slack.bot_token",
		`x.yaml:5: slack.incident_channels.prefix: "Prod Incidents": a prefix is lower-case letters, digits, - and _`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	if _, err := Parse("x.yaml", []byte("slack: {bot_token: xoxb-1, app_token: xapp-1, incident_channels: {enabled: true, min_severity: SEV7}}\n")); err == nil || !strings.Contains(err.Error(), `x.yaml:1`) || !strings.Contains(err.Error(), "SEV7") {
		t.Errorf("a bad severity: %v", err)
	}
	cfg, err := Parse("x.yaml", []byte("slack: {bot_token: xoxb-1, app_token: xapp-1, incident_channels: {enabled: true, min_severity: sev1, prefix: prod}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ic := cfg.Slack.IncidentChannels; !ic.Enabled || ic.MinSeverity != 1 || ic.Prefix != "prod" {
		t.Errorf("read %+v", ic)
	}
}
