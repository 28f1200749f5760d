package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/prometheus/common/model"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	File  string
	Line  int
	Field string // dotted path, e.g. "policies[0].steps[1].delay"
	Msg   string
}

// Error renders "file:line: field: message".
func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if loc == "" {
		loc = "config"
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Field, p.Msg)
}

// Validate checks the whole configuration and returns every problem found,
// joined, each naming file, line and field.
func (c Config) Validate() error { return c.validate(nil) }

// validate checks the configuration after decoding, which found the
// problems given; a field the decoder already complained about is not
// reported again.
func (c Config) validate(decoded []Problem) error {
	ps := decoded
	reported := map[string]bool{}
	for _, p := range decoded {
		reported[p.Field] = true
	}
	add := func(field, format string, args ...any) {
		if reported[field] {
			return
		}
		if src, ok := c.from[field]; ok {
			ps = append(ps, Problem{File: src, Field: field, Msg: fmt.Sprintf(format, args...)})
			return
		}
		ps = append(ps, Problem{File: c.File, Line: c.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	// nested turns "a: b" errors of a sub-validator into problems under prefix.
	nested := func(prefix string, err error) {
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			field, msg, ok := strings.Cut(line, ": ")
			if !ok || strings.ContainsAny(field, " \"") {
				add(prefix, "%s", line)
				continue
			}
			add(prefix+"."+field, "%s", msg)
		}
	}
	for field, v := range map[string]string{"server.token": c.Server.Token, "metrics.prometheus.bearer_token": c.Metrics.Prometheus.BearerToken,
		"alerts.remote_write.bearer_token": c.Alerts.RemoteWrite.BearerToken, "slack.signing_secret": c.Slack.SigningSecret, "slack.bot_token": c.Slack.BotToken, "slack.app_token": c.Slack.AppToken} {
		if v != strings.TrimSpace(v) {
			add(field, "leading or trailing whitespace (a token read from a file keeps its newline): it would never match")
		}
	}
	if c.Slack.BotToken != "" && c.Slack.SigningSecret == "" && c.Slack.AppToken == "" {
		add("slack.bot_token", "set without slack.app_token or slack.signing_secret: the bot cannot hear anything to answer")
	}
	if t := c.Slack.AppToken; t != "" && !strings.HasPrefix(strings.TrimSpace(t), "xapp-") {
		add("slack.app_token", "not an app-level token (they begin xapp-; a bot token xoxb- goes in slack.bot_token)")
	}
	c.Slack.IncidentChannels.validate(c.Slack.BotToken, add)
	if u := c.Slack.APIURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			add("slack.api_url", "not an http(s) URL: %q", u)
		}
	}
	if u := c.PagerDuty.EventsURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			add("pagerduty.events_url", "not an http(s) URL: %q", u)
		}
	}
	if u := c.Server.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Scheme == "" || pu.Host == "" {
			add("server.url", "not an absolute URL: %q", u)
		}
	}
	if u := c.Metrics.Prometheus.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			add("metrics.prometheus.url", "not an http(s) URL: %q", u)
		}
	}
	if c.Metrics.Scrape.Interval <= 0 {
		add("metrics.scrape.interval", "must be positive")
	}
	for i, t := range c.Metrics.Scrape.Targets {
		f := fmt.Sprintf("metrics.scrape.targets[%d]", i)
		if t.Job == "" {
			add(f+".job", "must not be empty")
		}
		if pu, err := url.Parse(t.URL); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			add(f+".url", "not an http(s) URL: %q", t.URL)
		}
	}
	if c.Alerts.EvaluationInterval <= 0 {
		add("alerts.evaluation_interval", "must be positive")
	}
	if r := c.Console.Renderer; r != "" && r != "on-demand" && r != "fixed" {
		add("console.renderer", "%q: want on-demand or fixed", r)
	}
	switch c.Console.Theme {
	case "auto", "dark", "light":
	default:
		add("console.theme", "%q: want auto, dark or light", c.Console.Theme)
	}
	if c.Console.LogLines <= 0 {
		add("console.log_lines", "must be positive")
	}
	if c.Logs.Buffer <= 0 {
		add("logs.buffer", "must be positive")
	}
	seenRules := map[string]bool{}
	for i, r := range c.Logs.Rules {
		f := fmt.Sprintf("logs.rules[%d]", i)
		if !model.LabelValue(r.Name).IsValid() || r.Name == "" {
			add(f+".name", "must not be empty")
		}
		if seenRules[r.Name] {
			add(f+".name", "duplicate log rule %q", r.Name)
		}
		seenRules[r.Name] = true
		if _, err := logs.ParseFilter(r.Filter); err != nil {
			add(f+".filter", "%v", err)
		} else if strings.TrimSpace(r.Filter) == "" {
			add(f+".filter", "must not be empty (it would count every line)")
		}
	}
	people := c.People()
	seen := func(kind string) func(f, name string) {
		names := map[string]bool{}
		return func(f, name string) {
			if names[name] && name != "" {
				add(f+".name", "duplicate %s %q", kind, name)
			}
			names[name] = true
		}
	}
	dupUser, dupRot, dupSched, dupPolicy, dupService := seen("user"), seen("rotation"), seen("schedule"), seen("policy"), seen("service")
	for i, u := range c.Users {
		f := fmt.Sprintf("users[%d]", i)
		nested(f, u.Validate())
		dupUser(f, u.Name)
	}
	for i, r := range c.Rotations {
		f := fmt.Sprintf("rotations[%d]", i)
		nested(f, r.Validate(people.Users))
		dupRot(f, r.Name)
	}
	for i, s := range c.Schedules {
		f := fmt.Sprintf("schedules[%d]", i)
		nested(f, s.Validate(people.Users, people.Rotations))
		dupSched(f, s.Name)
		if _, clash := people.Rotations[s.Name]; clash && len(s.Users) > 0 {
			add(f+".name", "%q is also a rotation's name: the short form names its rotation after the schedule", s.Name)
		}
	}
	policies := map[string]bool{}
	for i, p := range c.Policies {
		f := fmt.Sprintf("policies[%d]", i)
		nested(f, p.Validate(people))
		dupPolicy(f, p.Name)
		policies[p.Name] = true
	}
	if ic := c.IncidentCommander; ic != nil {
		nested("incident_commander", ic.Validate(people))
	}
	for name, d := range c.Severities {
		f := "severities." + name
		if _, err := incidents.ParseSeverity(name); err != nil {
			add(f, "%v", err)
		}
		if strings.TrimSpace(d.Description) == "" {
			add(f+".description", "say what the severity means: responders pick it by this")
		}
	}
	publicNames := map[string]string{}
	for i, s := range c.Services {
		f := fmt.Sprintf("services[%d]", i)
		nested(f, s.Validate(func(p string) bool { return policies[p] }))
		dupService(f, s.Name)
		if other, dup := publicNames[s.PublicName]; dup && s.PublicName != "" {
			add(f+".public_name", "%q is also service %q's public name: the status page would show one component twice", s.PublicName, other)
		}
		publicNames[s.PublicName] = s.Name
	}
	if c.StatusPage.HistoryDays < 0 {
		add("status_page.history_days", "must not be negative")
	}
	for field, pats := range map[string][]string{"rule_files": c.Alerts.RuleFiles, "slo_files": c.Alerts.SLOFiles} {
		for i, pat := range pats {
			f := fmt.Sprintf("alerts.%s[%d]", field, i)
			switch m, err := filepath.Glob(pat); {
			case err != nil:
				add(f, "bad pattern %q: %v", pat, err)
			case len(m) == 0:
				add(f, "%q matches no file", pat)
			}
		}
	}
	if u := c.Alerts.RemoteWrite.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			add("alerts.remote_write.url", "not an http(s) URL: %q", u)
		}
	}
	if g := c.Runtime.GOGC; g != nil && *g == 0 {
		add("runtime.gogc", "0 would collect garbage without pause; a percentage above 0, or -1 to turn the collector off")
	}
	if m := c.Runtime.GOMEMLIMIT; m != "" && m != "auto" && m != "off" {
		if _, err := parseByteCount(m); err != nil {
			add("runtime.gomemlimit", "%v, or auto or off", err)
		}
	}
	if c.Alerts.MaxAlerts < 0 {
		add("alerts.max_alerts", "must not be negative (0 is no limit)")
	}
	for i, n := range c.Alerts.ReplicaLabels {
		if !model.LabelName(n).IsValidLegacy() {
			add(fmt.Sprintf("alerts.replica_labels[%d]", i), "not a label name: %q", n)
		}
	}
	var extra []error
	var rc *routing.Config
	if c.Alerts.AlertmanagerConfig != "" && c.Alerts.Routing.Kind != 0 {
		add("alerts.routing", "set alerts.alertmanager_config or alerts.routing, not both")
	} else if r, err := c.Routing(); err != nil {
		extra = append(extra, err)
	} else {
		rc = r
	}
	if w := c.Alerts.Watchdog; w.Receiver != "" && rc != nil {
		if _, ok := rc.Receiver(w.Receiver); !ok {
			add("alerts.watchdog.receiver", "%q is not a receiver of the routing configuration (%s)", w.Receiver, routingWhere(c))
		}
	}
	if w := c.Alerts.Watchdog; w.Interval != 0 && w.Interval < 10*time.Second {
		add("alerts.watchdog.interval", "%s: at least 10s", w.Interval)
	}
	names := map[string]bool{}
	for i, r := range c.Receivers {
		f := fmt.Sprintf("receivers[%d]", i)
		switch {
		case r.Name == "":
			add(f+".name", "must not be empty")
		case names[r.Name]:
			add(f+".name", "duplicate receiver %q", r.Name)
		case rc != nil:
			if _, ok := rc.Receiver(r.Name); !ok {
				add(f+".name", "%q is not a receiver of the routing configuration (%s): add `- name: %s` to its receivers", r.Name, routingWhere(c), r.Name)
			}
		}
		names[r.Name] = true
		if r.Incident == nil && !r.Console {
			add(f, "receiver %q does nothing: set incident: {policy: ...} or console: true", r.Name)
		}
		if r.Incident != nil && !policies[r.Incident.Policy] {
			add(f+".incident.policy", "unknown policy %q", r.Incident.Policy)
		}
	}
	if c.OnCallPolicy != "" && !policies[c.OnCallPolicy] {
		add("oncall_policy", "unknown policy %q", c.OnCallPolicy)
	}
	c.Checklists.validate(add, c.Catalog())
	c.Postmortems.validate(add)
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(append(errs, extra...)...)
}

func routingWhere(c Config) string {
	if c.Alerts.AlertmanagerConfig != "" {
		return c.Alerts.AlertmanagerConfig
	}
	return "alerts.routing"
}

var indexRE = regexp.MustCompile(`^([^\[]+)\[(\d+)\]$`)

// line finds the line of a dotted field path in the parsed file, falling back
// to the nearest ancestor that exists.
func (c Config) line(path string) int {
	if c.root == nil || len(c.root.Content) == 0 {
		return 0
	}
	n := c.root.Content[0]
	best := n.Line
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if m := indexRE.FindStringSubmatch(part); m != nil {
			key = m[1]
			idx, _ = strconv.Atoi(m[2])
		}
		next := mapValue(n, key)
		if next == nil {
			return best
		}
		n, best = next, next.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return best
			}
			n = n.Content[idx]
			best = n.Line
		}
	}
	return best
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if n.Content[i+1].Kind == yaml.ScalarNode {
				return n.Content[i] // the key's line reads best for scalars
			}
			return n.Content[i+1]
		}
	}
	return nil
}

// --- Readiness checklists (oncall checklist) ---

// validate checks the checklists block: the directory, the services it
// names (catalogue services, http(s) URLs) and the SMTP server.
func (c Checklists) validate(add func(field, format string, args ...any), cat catalog.Catalog) {
	if c.Dir != "" {
		if fi, err := os.Stat(c.Dir); err != nil || !fi.IsDir() {
			add("checklists.dir", "%q is not a directory", c.Dir)
		}
	}
	if c.Timeout < 0 {
		add("checklists.timeout", "must not be negative")
	}
	names := slices.Sorted(maps.Keys(c.Services))
	for _, name := range names {
		s := c.Services[name]
		f := "checklists.services." + name
		if _, ok := cat.Get(name); !ok {
			add(f, "%q is not a service of the catalogue (services[].name)", name)
		}
		if s.URL != "" {
			if pu, err := url.Parse(s.URL); err != nil || pu.Scheme != "https" || pu.Host == "" {
				add(f+".url", "not an https:// URL: %q", secret.Redact(s.URL))
			}
		}
		if s.HTTPURL != "" {
			if pu, err := url.Parse(s.HTTPURL); err != nil || pu.Scheme != "http" || pu.Host == "" {
				add(f+".http_url", "not an http:// URL: %q", secret.Redact(s.HTTPURL))
			}
		}
		for _, env := range slices.Sorted(maps.Keys(s.Versions)) {
			if pu, err := url.Parse(s.Versions[env]); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				add(f+".versions."+env, "not an http(s) URL: %q", secret.Redact(s.Versions[env]))
			}
		}
	}
	m := c.SMTP
	if m.Addr == "" {
		if m.Username != "" || m.From != "" || len(m.To) > 0 {
			add("checklists.smtp.addr", "must be set (host:port) for the other smtp settings to mean anything")
		}
		return
	}
	if _, port, err := net.SplitHostPort(m.Addr); err != nil || port == "" {
		add("checklists.smtp.addr", "%q: want host:port", m.Addr)
	}
	if m.Password != strings.TrimSpace(m.Password) {
		add("checklists.smtp.password", "leading or trailing whitespace (a password read from a file keeps its newline)")
	}
	if m.Password != "" && m.Username == "" {
		add("checklists.smtp.username", "a password needs a username")
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		add("checklists.smtp.from", "%q is not an email address", m.From)
	}
	if len(m.To) == 0 {
		add("checklists.smtp.to", "name at least one recipient (engineering@...)")
	}
	for i, t := range m.To {
		if _, err := mail.ParseAddress(t); err != nil {
			add(fmt.Sprintf("checklists.smtp.to[%d]", i), "%q is not an email address", t)
		}
	}
}

// --- Postmortems (oncall postmortem) ---

// validate checks the postmortems block: the directory (if it exists) is
// one, the template is a file, the days are positive and name severities.
func (p Postmortems) validate(add func(field, format string, args ...any)) {
	if p.Directory != "" {
		if fi, err := os.Stat(p.Directory); err == nil && !fi.IsDir() {
			add("postmortems.directory", "%q is not a directory", p.Directory)
		}
	}
	if p.Template != "" {
		if fi, err := os.Stat(p.Template); err != nil || fi.IsDir() {
			add("postmortems.template", "%q is not a readable file", p.Template)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.ActionDueDays)) {
		f := "postmortems.action_due_days." + k
		if _, err := incidents.ParseSeverity(k); err != nil {
			add(f, "%v", err)
		}
		if p.ActionDueDays[k] < 1 {
			add(f, "%d: want at least 1 day", p.ActionDueDays[k])
		}
	}
	if p.DueDays < 0 {
		add("postmortems.due_days", "must not be negative")
	}
	if p.StuckAfter < 0 {
		add("postmortems.stuck_after", "must not be negative")
	}
}
