// Package config is oncall's configuration file: its schema, defaults,
// validation that names file, line and field for every problem, and the
// commented starter file `oncall init` writes.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents/oncall"
)

// Config is the whole configuration file.
type Config struct {
	// User is who you are, for acknowledgements; defaults to $USER.
	User     string  `yaml:"user"`
	StateDir string  `yaml:"state_dir"`
	Server   Server  `yaml:"server"`
	Metrics  Metrics `yaml:"metrics"`
	Logs     Logs    `yaml:"logs"`
	Alerts   Alerts  `yaml:"alerts"`
	// Schedules and Policies say who is paged.
	Schedules []oncall.Schedule `yaml:"schedules"`
	Policies  []oncall.Policy   `yaml:"policies"`
	// OnCallPolicy is the policy shown as "who is on call".
	OnCallPolicy string `yaml:"oncall_policy"`
	Notify       Notify `yaml:"notify"`

	// File is where the configuration was read from ("" for built-in).
	File string `yaml:"-"`
	root *yaml.Node
}

// Server configures `oncall serve` and how clients reach it.
type Server struct {
	Listen string `yaml:"listen"`
	// URL, when set, makes the TUI and CLI talk to that server instead of
	// starting one in-process.
	URL   string `yaml:"url"`
	Token string `yaml:"token"`
}

// Metrics configures the metrics source.
type Metrics struct {
	Prometheus Prometheus `yaml:"prometheus"`
	Scrape     Scrape     `yaml:"scrape"`
}

// Prometheus is a Prometheus-compatible HTTP API to query.
type Prometheus struct {
	URL         string        `yaml:"url"`
	BearerToken string        `yaml:"bearer_token"`
	Timeout     time.Duration `yaml:"timeout"`
}

// Scrape configures the embedded scraper and TSDB, used when no Prometheus
// URL is set.
type Scrape struct {
	Interval  time.Duration `yaml:"interval"`
	Retention time.Duration `yaml:"retention"`
	Targets   []Target      `yaml:"targets"`
}

// Target is one /metrics endpoint to scrape.
type Target struct {
	Job string `yaml:"job"`
	URL string `yaml:"url"`
}

// Logs configures the log sources.
type Logs struct {
	Files  []string `yaml:"files"`
	Buffer int      `yaml:"buffer"`
	// Rules count the lines matching a filter as the metric
	// oncall_log_matches_total{rule="NAME"}, which alerting rules can use.
	Rules []LogRule `yaml:"rules"`
}

// LogRule counts log lines that match a filter (the filter language of
// oncall logs and the console).
type LogRule struct {
	Name   string `yaml:"name"`
	Filter string `yaml:"filter"`
}

// Alerts configures rule evaluation and routing.
type Alerts struct {
	RuleFiles          []string      `yaml:"rule_files"`
	EvaluationInterval time.Duration `yaml:"evaluation_interval"`
	Routes             []Route       `yaml:"routes"`
}

// Route is the file form of alerts.Route.
type Route struct {
	Name      string        `yaml:"name"`
	Matchers  []string      `yaml:"matchers"`
	GroupBy   []string      `yaml:"group_by"`
	GroupWait time.Duration `yaml:"group_wait"`
	Policy    string        `yaml:"policy"`
}

// Notify configures page delivery.
type Notify struct {
	Console Console `yaml:"console"`
}

// Console is the always-on receiver: pages are appended to a file and shown
// in the TUI.
type Console struct {
	File string `yaml:"file"`
}

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{
		Server:  Server{Listen: "127.0.0.1:7767"},
		Metrics: Metrics{Scrape: Scrape{Interval: 15 * time.Second, Retention: 2 * time.Hour}, Prometheus: Prometheus{Timeout: 30 * time.Second}},
		Logs:    Logs{Buffer: 100_000},
		Alerts:  Alerts{EvaluationInterval: 15 * time.Second},
	}
}

// Load reads and validates the file at path. The returned error lists every
// problem, one per line, as "file:line: field: message".
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse parses and validates configuration content read from file.
func Parse(file string, content []byte) (Config, error) {
	cfg := Default()
	cfg.File = file
	var root yaml.Node
	if err := yaml.Unmarshal(content, &root); err != nil {
		return cfg, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	cfg.root = &root
	if len(root.Content) == 0 {
		return cfg, cfg.Validate()
	}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			lines := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				lines[i] = file + ":" + strings.TrimPrefix(e, "line ")
			}
			return cfg, errors.New(strings.Join(lines, "\n"))
		}
		return cfg, fmt.Errorf("%s: %w", file, err)
	}
	cfg.resolvePaths()
	return cfg, cfg.Validate()
}

// resolvePaths makes relative paths in the file relative to the file.
func (c *Config) resolvePaths() {
	if c.File == "" {
		return
	}
	dir := filepath.Dir(c.File)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i, p := range c.Alerts.RuleFiles {
		c.Alerts.RuleFiles[i] = abs(p)
	}
	for i, p := range c.Logs.Files {
		c.Logs.Files[i] = abs(p)
	}
	c.StateDir = abs(c.StateDir)
	c.Notify.Console.File = abs(c.Notify.Console.File)
}

// StatePath returns the state directory: state_dir, else
// $XDG_STATE_HOME/oncall, else ~/.local/state/oncall.
func (c Config) StatePath() string {
	if c.StateDir != "" {
		return c.StateDir
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "oncall")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "oncall-state")
	}
	return filepath.Join(home, ".local", "state", "oncall")
}

// Routes converts the routes to their alerts form.
func (c Config) Routes() ([]alerts.Route, error) {
	out := make([]alerts.Route, len(c.Alerts.Routes))
	for i, r := range c.Alerts.Routes {
		ms, err := alerts.ParseMatchers(r.Matchers)
		if err != nil {
			return nil, fmt.Errorf("alerts.routes[%d].matchers: %w", i, err)
		}
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("route%d", i)
		}
		groupBy := r.GroupBy
		if len(groupBy) == 0 {
			groupBy = []string{"alertname"}
		}
		out[i] = alerts.Route{Name: name, Matchers: ms, GroupBy: groupBy, GroupWait: r.GroupWait, Policy: r.Policy}
	}
	return out, nil
}
