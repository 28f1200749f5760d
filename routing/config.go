// Package routing is Alertmanager's routing, read from an alertmanager.yml
// unchanged: the routing tree (matchers, continue, group_by, the three
// timers), receivers, inhibition rules and time intervals. Its sub-packages
// hold the rest of Alertmanager's semantics: silence, inhibit and dispatch.
package routing

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/timeinterval"
	commoncfg "github.com/prometheus/common/config"
	"gopkg.in/yaml.v3"
)

// Config is a loaded Alertmanager configuration.
type Config struct {
	// File is where it was read from ("" for a built-in configuration).
	File string
	AM   *amconfig.Config
	// Root is the routing tree.
	Root *Route
	// ResolveTimeout ends an alert posted without an end that is not
	// posted again (global.resolve_timeout, 5m by default).
	ResolveTimeout time.Duration
	intervals      map[string][]timeinterval.TimeInterval
}

// Default is the routing used when none is configured: everything goes to
// the console, grouped by alertname.
const Default = `route:
  receiver: console
  group_by: [alertname]
receivers:
  - name: console
`

// LoadFile reads an alertmanager.yml. Every problem names the file, the
// line and the field.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse parses an Alertmanager configuration read from file with
// Alertmanager's own parser and validation.
func Parse(file string, content []byte) (*Config, error) {
	return parse(file, content, nil, "")
}

// ParseNode parses an Alertmanager configuration embedded in another YAML
// file at node, whose dotted path there is prefix: problems name the outer
// file's lines and fields.
func ParseNode(file string, node *yaml.Node, prefix string) (*Config, error) {
	content, err := yaml.Marshal(node)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %w", file, node.Line, prefix, err)
	}
	return parse(file, content, node, prefix)
}

func parse(file string, content []byte, orig *yaml.Node, prefix string) (*Config, error) {
	am, err := load(content)
	if err != nil {
		return nil, locate(file, content, err, orig, prefix)
	}
	if file != "" {
		// Relative paths (templates, password and URL files) are relative
		// to the file, as Alertmanager's LoadFile makes them.
		dir := filepath.Dir(file)
		for i, t := range am.Templates {
			if !filepath.IsAbs(t) {
				am.Templates[i] = filepath.Join(dir, t)
			}
		}
		setHTTPDirectories(am, dir)
		for _, r := range am.Receivers {
			for _, w := range r.WebhookConfigs {
				if w.URLFile != "" && !filepath.IsAbs(w.URLFile) {
					w.URLFile = filepath.Join(dir, w.URLFile)
				}
			}
		}
	}
	c := &Config{File: file, AM: am, Root: NewRoute(am.Route, nil), ResolveTimeout: 5 * time.Minute, intervals: map[string][]timeinterval.TimeInterval{}}
	if am.Global != nil && am.Global.ResolveTimeout > 0 {
		c.ResolveTimeout = time.Duration(am.Global.ResolveTimeout)
	}
	for _, ti := range am.MuteTimeIntervals {
		c.intervals[ti.Name] = ti.TimeIntervals
	}
	for _, ti := range am.TimeIntervals {
		c.intervals[ti.Name] = ti.TimeIntervals
	}
	return c, nil
}

// load runs Alertmanager's parser, which panics on some inputs (an empty
// item in a list of routes, found by fuzzing): those are errors too.
func load(content []byte) (c *amconfig.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%v", r)
		}
	}()
	if err := emptyItems(content); err != nil {
		return nil, err
	}
	return amconfig.Load(string(content))
}

// emptyItems reports an empty item in a list, which Alertmanager's parser
// cannot take (`routes: [-]` crashes it).
func emptyItems(content []byte) error {
	var root yaml.Node
	if yaml.Unmarshal(content, &root) != nil {
		return nil // the parser reports broken YAML itself
	}
	for _, n := range flatten(&root) {
		if !n.key && n.node.Kind == yaml.ScalarNode && n.node.Tag == "!!null" && strings.HasSuffix(n.path, "]") {
			return fmt.Errorf("line %d: empty list item in %s", n.node.Line, n.path[:strings.LastIndexByte(n.path, '[')])
		}
	}
	return nil
}

// Receiver returns the named receiver's configuration.
func (c *Config) Receiver(name string) (amconfig.Receiver, bool) {
	for _, r := range c.AM.Receivers {
		if r.Name == name {
			return r, true
		}
	}
	return amconfig.Receiver{}, false
}

// ReceiverNames lists the receivers in configuration order.
func (c *Config) ReceiverNames() []string {
	out := make([]string, len(c.AM.Receivers))
	for i, r := range c.AM.Receivers {
		out[i] = r.Name
	}
	return out
}

// Muted reports whether notifications of route r are held back at now:
// inside one of its mute_time_intervals, or outside all of its
// active_time_intervals when it has some.
func (c *Config) Muted(r *Route, now time.Time) bool {
	for _, name := range r.MuteTimeIntervals {
		if c.in(name, now) {
			return true
		}
	}
	if len(r.ActiveTimeIntervals) == 0 {
		return false
	}
	for _, name := range r.ActiveTimeIntervals {
		if c.in(name, now) {
			return false
		}
	}
	return true
}

func (c *Config) in(name string, t time.Time) bool {
	for _, ti := range c.intervals[name] {
		if ti.ContainsTime(t.UTC()) {
			return true
		}
	}
	return false
}

// setHTTPDirectories makes the files of every http_config (CA,
// certificates, bearer token and credentials files) relative to dir, as
// Alertmanager's LoadFile does for the global one and each integration's.
func setHTTPDirectories(am *amconfig.Config, dir string) {
	if am.Global != nil && am.Global.HTTPConfig != nil {
		am.Global.HTTPConfig.SetDirectory(dir)
	}
	for _, r := range am.Receivers {
		rv := reflect.ValueOf(r)
		for i := range rv.NumField() {
			f := rv.Field(i)
			if f.Kind() != reflect.Slice {
				continue
			}
			for j := range f.Len() {
				c := f.Index(j)
				if c.Kind() != reflect.Pointer || c.IsNil() || c.Elem().Kind() != reflect.Struct {
					continue
				}
				hf := c.Elem().FieldByName("HTTPConfig")
				if !hf.IsValid() || !hf.CanInterface() {
					continue
				}
				if h, ok := hf.Interface().(*commoncfg.HTTPClientConfig); ok && h != nil {
					h.SetDirectory(dir)
				}
			}
		}
	}
}

// Integration is one *_configs entry of a receiver: its kind (webhook,
// pagerduty, slack, email, …, as Alertmanager names them), its index
// among those of its kind, and whether resolved alerts are sent to it.
type Integration struct {
	Kind         string
	Index        int
	SendResolved bool
}

// resolvedSender is what every Alertmanager integration configuration
// says of itself.
type resolvedSender interface{ SendResolved() bool }

func entries[T resolvedSender](out []Integration, kind string, cs []T) []Integration {
	for i, c := range cs {
		out = append(out, Integration{Kind: kind, Index: i, SendResolved: c.SendResolved()})
	}
	return out
}

// Integrations lists the integrations of a receiver, in Alertmanager's
// order: webhooks, then the others.
func Integrations(r amconfig.Receiver) []Integration {
	var out []Integration
	out = entries(out, "webhook", r.WebhookConfigs)
	out = entries(out, "email", r.EmailConfigs)
	out = entries(out, "pagerduty", r.PagerdutyConfigs)
	out = entries(out, "opsgenie", r.OpsGenieConfigs)
	out = entries(out, "wechat", r.WechatConfigs)
	out = entries(out, "slack", r.SlackConfigs)
	out = entries(out, "victorops", r.VictorOpsConfigs)
	out = entries(out, "pushover", r.PushoverConfigs)
	out = entries(out, "sns", r.SNSConfigs)
	out = entries(out, "telegram", r.TelegramConfigs)
	out = entries(out, "discord", r.DiscordConfigs)
	out = entries(out, "webex", r.WebexConfigs)
	out = entries(out, "msteams", r.MSTeamsConfigs)
	out = entries(out, "msteamsv2", r.MSTeamsV2Configs)
	out = entries(out, "jira", r.JiraConfigs)
	out = entries(out, "incidentio", r.IncidentioConfigs)
	out = entries(out, "rocketchat", r.RocketchatConfigs)
	return entries(out, "mattermost", r.MattermostConfigs)
}

// Validate checks that the receivers named by oncall's own configuration
// exist in this one.
func (c *Config) Validate(names []string) error {
	var errs []error
	for _, n := range names {
		if _, ok := c.Receiver(n); !ok {
			errs = append(errs, fmt.Errorf("receiver %q is not in %s: add `- name: %s` to its receivers", n, c.where(), n))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) where() string {
	if c.File == "" {
		return "the built-in routing"
	}
	return strings.TrimSpace(c.File)
}
