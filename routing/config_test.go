package routing

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"route:\n  receiver: nope\nreceivers:\n  - name: x\n", `am.yml:2: route.receiver: undefined receiver "nope" used in route`},
		{"route:\n  receiver: x\n  bogus: 1\nreceivers:\n  - name: x\n", `am.yml:3: route.bogus: unknown field "bogus"`},
		{"route:\n  receiver: x\n  group_wait: 5x\nreceivers:\n  - name: x\n", `am.yml:3: route.group_wait: unknown unit "x" in duration "5x"`},
		{"route:\n  receiver: x\n  routes:\n    - matchers: ['a=~\"(\"']\nreceivers:\n  - name: x\n", `am.yml:4: route.routes[0].matchers[0]: error parsing regexp`},
		{"route:\n  receiver: x\n  routes:\n    - mute_time_intervals: [night]\nreceivers:\n  - name: x\n", `am.yml:4: route.routes[0].mute_time_intervals[0]: undefined time interval "night"`},
		{"receivers:\n  - name: x\n", `am.yml:1: route: no route`},
		{"route:\n  receiver: x\nreceivers:\n  - name: x\n    webhook_configs:\n      - url: 'ftp://x'\n", `am.yml:6: receivers[0].webhook_configs[0].url: invalid URL`},
		{"route:\n  receiver: x\nreceivers:\n  - name: x\n  - name: x\n", `am.yml:5: receivers[1].name: notification config name "x" is not unique`},
		{"route: [\n", `am.yml:1: did not find expected node content`},
		{"route:\n  receiver: x\n  continue: true\nreceivers:\n  - name: x\n", `am.yml:3: route.continue: cannot have continue in root route`},
		{"route:\n  receiver: x\ninhibit_rules:\n  - source_matchers: ['a=\"b']\nreceivers:\n  - name: x\n", `am.yml:4: inhibit_rules[0].source_matchers[0]: matcher value contains unescaped double quote`},
		{"route:\n  receiver: x\n  group_wait: [1]\nreceivers:\n  - name: x\n", `am.yml:3: route.group_wait: cannot unmarshal`},
		// Alertmanager's own parser crashes on this one (found by FuzzParse).
		{"route:\n  receiver: x\n  routes:\n    -\nreceivers:\n  - name: x\n", `am.yml:4: route.routes[0]: empty list item in route.routes`},
	}
	for _, tc := range tests {
		_, err := Parse("am.yml", []byte(tc.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q):\n got  %v\n want %s…", tc.yaml, err, tc.want)
		}
	}
}

func TestRouteOptionsInherit(t *testing.T) {
	c, err := Parse("am.yml", []byte(`
global: {resolve_timeout: 2m}
route:
  receiver: default
  group_by: [service, alertname]
  group_wait: 10s
  routes:
    - matchers: [team=db]
      receiver: db
      group_interval: 1m
      mute_time_intervals: [weekends]
      routes:
        - matchers: [severity=page]
          group_by: ['...']
receivers: [{name: default}, {name: db}]
time_intervals:
  - name: weekends
    time_intervals: [{weekdays: [saturday, sunday]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	db := c.Root.Routes[0]
	page := db.Routes[0]
	if c.ResolveTimeout != 2*time.Minute {
		t.Errorf("resolve timeout %v", c.ResolveTimeout)
	}
	if db.Receiver != "db" || db.GroupWait != 10*time.Second || db.GroupInterval != time.Minute || db.RepeatInterval != DefaultRepeatInterval ||
		strings.Join(db.GroupBy, ",") != "alertname,service" {
		t.Errorf("db route: %+v", db)
	}
	if page.Receiver != "db" || !page.GroupByAll || page.GroupInterval != time.Minute || len(page.MuteTimeIntervals) != 0 {
		t.Errorf("page route inherits receiver and timers, not time intervals: %+v", page)
	}
	if got, want := page.Key(), `{}/{team="db"}/{severity="page"}`; got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if !c.Muted(db, saturday) || c.Muted(db, saturday.Add(48*time.Hour)) || c.Muted(page, saturday) {
		t.Error("mute_time_intervals: weekends should mute the db route on Saturday only")
	}
}

// Files an integration's http_config names are relative to the
// alertmanager.yml, as Alertmanager reads them; so are templates.
func TestRelativeFilesOfIntegrations(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "alertmanager.yml")
	rc, err := Parse(file, []byte(`route: {receiver: team}
templates: [tmpl/*.tmpl]
receivers:
  - name: team
    email_configs: [{to: a@example.com, from: b@example.com, smarthost: "localhost:25"}]
    slack_configs: [{api_url: "https://hooks.slack.com/x", http_config: {tls_config: {ca_file: ca.pem}}}]
    pagerduty_configs: [{routing_key: k, http_config: {authorization: {credentials_file: secrets/pd}}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	r := rc.AM.Receivers[0]
	if got := r.SlackConfigs[0].HTTPConfig.TLSConfig.CAFile; got != filepath.Join(dir, "ca.pem") {
		t.Errorf("slack ca_file %q", got)
	}
	if got := r.PagerdutyConfigs[0].HTTPConfig.Authorization.CredentialsFile; got != filepath.Join(dir, "secrets/pd") {
		t.Errorf("pagerduty credentials_file %q", got)
	}
	if got := rc.AM.Templates[0]; got != filepath.Join(dir, "tmpl/*.tmpl") {
		t.Errorf("templates %q", got)
	}
}
