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
