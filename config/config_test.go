package config

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/internal/golden"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

func TestStarterIsValid(t *testing.T) {
	cfg, err := Parse("starter.yaml", Starter)
	if err != nil {
		t.Fatalf("starter file does not validate:\n%v", err)
	}
	if len(cfg.Policies) != 1 || len(cfg.Policies[0].Steps) != 3 || cfg.Policies[0].Steps[2].Delay != 10*time.Minute {
		t.Errorf("policies = %+v", cfg.Policies)
	}
	// The incident commander ends the starter's policy.
	if p, err := cfg.People().Freeze("default"); err != nil || len(p.Steps) != 4 || p.Steps[3].Targets[0].User != "riley" || p.Steps[3].Delay != 15*time.Minute {
		t.Errorf("frozen starter policy = %+v, %v", p, err)
	}
	if len(cfg.Services) != 1 || cfg.Services[0].PublicName != "API" {
		t.Errorf("services = %+v", cfg.Services)
	}
	rc, err := cfg.Routing()
	if err != nil || len(rc.Root.Routes) != 1 || rc.Root.Routes[0].Receiver != "pager" || rc.Root.GroupWait != 30*time.Second {
		t.Fatalf("routing = %+v, %v", rc, err)
	}
	if own := cfg.OwnReceivers(); len(own) != 2 || own[1].Incident == nil || own[1].Incident.Policy != "default" {
		t.Errorf("receivers = %+v", own)
	}
}

func TestEveryProblemNamesFileLineField(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	if err == nil {
		t.Fatal("want errors")
	}
	want := []string{
		`testdata/bad.yaml:2: server.url: not an absolute URL: "not a url"`,
		`testdata/bad.yaml:5: metrics.scrape.interval: must be positive`,
		`testdata/bad.yaml:8: metrics.scrape.targets[0].url: not an http(s) URL: "ftp://x"`,
		`testdata/bad.yaml:14: alerts.routing.route.routes[0].matchers[0]:`,
		`testdata/bad.yaml:18: receivers[0].incident.policy: unknown policy "nope"`,
		`testdata/bad.yaml:21: schedules[0].users: schedule "platform" needs at least one user`,
		`testdata/bad.yaml:27: policies[0].steps[0].targets[0].schedule: unknown schedule "missing"`,
		`testdata/bad.yaml:28: policies[0].steps[0].delay: must be positive`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != len(want) {
		t.Errorf("%d problems reported, want %d:\n%v", n, len(want), err)
	}
}

// Every decoding problem is reported in one run, each with file, line and
// the dotted field path, and validation still runs on what could be read.
func TestUnknownFieldsAndBadTypes(t *testing.T) {
	_, err := Load("testdata/unknown.yaml")
	if err == nil {
		t.Fatal("want errors")
	}
	golden.Check(t, "testdata/unknown.golden", err.Error()+"\n")
}

// Syntax errors name the line and column where the parser found them, not
// where the enclosing construct began.
func TestSyntaxErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a: 1\nb:\n  c: 1\n d: 2\n", "x.yaml:4:2: syntax: did not find expected key"},
		{"user: [1, 2\nstate_dir: x\n", "x.yaml:2:"},
		{"logs:\n\tbuffer: 2\n", "x.yaml:2:1: syntax: found character that cannot start any token"},
		{"user: ana\nserver: : 3\n", "x.yaml:2:"},
	} {
		_, err := Parse("x.yaml", []byte(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want prefix %q", tc.in, err, tc.want)
		}
	}
}

func TestMalformedAndMissing(t *testing.T) {
	if _, err := Parse("x.yaml", []byte("server: [\n")); err == nil || !strings.HasPrefix(err.Error(), "x.yaml:") {
		t.Errorf("malformed: %v", err)
	}
	if _, err := Load("testdata/does-not-exist.yaml"); err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Errorf("missing: %v", err)
	}
	if _, err := Parse("empty.yaml", nil); err != nil {
		t.Errorf("empty file should be the defaults: %v", err)
	}
}

// promDuration says whether yaml.v3 refused only durations that Go's
// time.ParseDuration does not read and Prometheus's does (days, weeks,
// years), which the decoder takes on purpose.
func promDuration(err error) bool {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return false
	}
	for _, e := range te.Errors {
		_, v, ok := strings.Cut(e, "!!str `")
		v, _, ok2 := strings.Cut(v, "` into time.Duration")
		if !ok || !ok2 {
			return false
		}
		if _, err := model.ParseDuration(v); err != nil {
			return false
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	f.Add(Starter)
	f.Add([]byte("schedules: [{name: x, users: [a], start: 2026-01-01T00:00:00Z}]"))
	f.Add([]byte("alerts: {routing: {route: {receiver: x, routes: [{matchers: ['a=~\"(']}]}, receivers: [{name: x}]}}"))
	f.Add([]byte("logs: {bufer: 1, files: x}\nmetrics: {scrape: {interval: 15}}\nuser: &a ana\nstate_dir: *a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Whatever the decoder accepts, yaml.v3's strict decoding reads
		// the same way.
		var root yaml.Node
		if yaml.Unmarshal(b, &root) == nil && len(root.Content) > 0 {
			d := decoder{file: "fuzz.yaml"}
			mine := Default()
			d.decode(&root, reflect.ValueOf(&mine).Elem(), "")
			theirs := Default()
			dec := yaml.NewDecoder(bytes.NewReader(b))
			dec.KnownFields(true)
			if len(d.problems) == 0 {
				if err := dec.Decode(&theirs); err != nil {
					if promDuration(err) {
						return // 7d, 2w, 1y: Prometheus's durations, read on purpose
					}
					t.Fatalf("decoder accepted what yaml.v3 refuses: %v", err)
				}
				mine.Alerts.Routing, theirs.Alerts.Routing = yaml.Node{}, yaml.Node{}
				if !reflect.DeepEqual(mine, theirs) {
					t.Fatalf("decoded differently:\n mine:   %+v\n yaml.v3: %+v", mine, theirs)
				}
			}
		}
		cfg, err := Parse("fuzz.yaml", b)
		if err == nil {
			// A valid config has a valid routing configuration.
			if _, err := cfg.Routing(); err != nil {
				t.Fatalf("valid config, invalid routing: %v", err)
			}
		}
	})
}

func TestLogRuleValidation(t *testing.T) {
	_, err := Parse("x.yaml", []byte("logs:\n  rules:\n    - {name: a, filter: 'level>=loud'}\n    - {name: a, filter: ''}\n"))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, w := range []string{`x.yaml:3: logs.rules[0].filter: filter: column 1: unknown level "loud"`, `x.yaml:4: logs.rules[1].name: duplicate log rule "a"`, "logs.rules[1].filter: must not be empty"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

func TestRoutingFromAlertmanagerFile(t *testing.T) {
	_, err := Load("testdata/am/oncall.yaml")
	want := `testdata/am/oncall.yaml:7: receivers[1].name: "ghost" is not a receiver of the routing configuration (testdata/am/alertmanager.yml)`
	if err == nil || !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("error %v, want only %s", err, want)
	}
	cfg, err := Parse("testdata/am/oncall.yaml", []byte("alerts: {alertmanager_config: alertmanager.yml}\nreceivers: [{name: team, console: true}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfg.Routing()
	if err != nil || rc.Root.Receiver != "team" || rc.File != "testdata/am/alertmanager.yml" {
		t.Errorf("routing %+v, %v", rc, err)
	}
	if _, err := Parse("x.yaml", []byte("alerts:\n  routes: []\n")); err == nil || !strings.Contains(err.Error(), "alerts.alertmanager_config") {
		t.Errorf("the old routes key should point at the new one: %v", err)
	}
}

func TestTokensWithWhitespaceAreRefused(t *testing.T) {
	_, err := Parse("x.yaml", []byte("server:\n  token: \"s3cret \"\nmetrics:\n  prometheus: {bearer_token: \"\\ttok\"}\n"))
	for _, w := range []string{`x.yaml:2: server.token: leading or trailing whitespace`, `x.yaml:4: metrics.prometheus.bearer_token: leading or trailing whitespace`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

// An invalid schedule or policy is reported with file, line and field:
// overlapping rules, unknown users, an unknown time zone, zero steps, a
// policy that targets itself.
func TestBadPeopleNameFileLineField(t *testing.T) {
	_, err := Load("testdata/bad-people.yaml")
	if err == nil {
		t.Fatal("want errors")
	}
	golden.Check(t, "testdata/bad-people.golden", err.Error()+"\n")
}

// The configuration the README shows is valid, but for the files it
// names that are not here.
func TestReadmeConfigurationIsValid(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Configuration")
	_, rest, ok2 := strings.Cut(rest, "```yaml\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no yaml block under ## Configuration in README.md")
	}
	_, err = Parse("README.md", []byte(block))
	if err == nil {
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.Contains(line, "matches no file") {
			t.Errorf("README configuration: %s", line)
		}
	}
}

func TestMaskedHidesRoutingCredentials(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte(`alerts:
  routing:
    route: {receiver: r}
    receivers:
      - name: r
        webhook_configs: [{url: "http://h/hook?token=tok-SECRET", http_config: {authorization: {credentials: cred-SECRET}}}]
        slack_configs: [{api_url: "https://hooks.slack.com/services/T0/B0/slack-SECRET", channel: "#ops"}]
        pagerduty_configs: [{routing_key: pd-SECRET}]
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Masked().YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"tok-SECRET", "cred-SECRET", "slack-SECRET", "pd-SECRET"} {
		if strings.Contains(string(b), s) {
			t.Errorf("config show leaks %s:\n%s", s, b)
		}
	}
	if !strings.Contains(string(b), "#ops") || !strings.Contains(string(b), "http://h/hook") {
		t.Errorf("masked too much:\n%s", b)
	}
	// The configuration itself is untouched.
	if r, _ := cfg.Routing(); r == nil {
		t.Error("routing gone")
	}
	if b2, _ := yaml.Marshal(&cfg.Alerts.Routing); !strings.Contains(string(b2), "pd-SECRET") {
		t.Error("Masked changed the configuration it copied")
	}
}

// The Slack block names each mistake by line and field; a good one is
// masked whole in what `config show` prints.
func TestSlackBlock(t *testing.T) {
	_, err := Parse("x.yaml", []byte("slack:\n  app_token: xoxb-not-an-app-token\n  signing_secret: \"abc \"\n  api_url: slack.example.com\n"))
	for _, w := range []string{
		"x.yaml:2: slack.app_token: not an app-level token (they begin xapp-",
		"x.yaml:3: slack.signing_secret: leading or trailing whitespace",
		`x.yaml:4: slack.api_url: not an http(s) URL: "slack.example.com"`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
	if _, err := Parse("x.yaml", []byte("slack: {bot_token: xoxb-1}\n")); err == nil || !strings.Contains(err.Error(), "slack.bot_token: set without slack.app_token or slack.signing_secret") {
		t.Errorf("a bot token alone: %v", err)
	}
	cfg, err := Parse("x.yaml", []byte("slack: {app_token: xapp-1-A0-123-abc, signing_secret: s3, bot_token: xoxb-2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m := cfg.Masked().Slack; m.AppToken != "<secret>" || m.SigningSecret != "<secret>" || m.BotToken != "<secret>" {
		t.Errorf("masked: %+v", m)
	}
}
