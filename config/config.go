// Package config is oncall's configuration file: its schema, defaults,
// validation that names file, line and field for every problem, and the
// commented starter file `oncall init` writes.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/secret"
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
	// Users, Rotations, Schedules and Policies say who is paged.
	Users     []schedule.User     `yaml:"users"`
	Rotations []schedule.Rotation `yaml:"rotations"`
	Schedules []schedule.Schedule `yaml:"schedules"`
	Policies  []schedule.Policy   `yaml:"policies"`
	// IncidentCommander is the last step of every policy that does not
	// reach it already (a policy opts out with no_incident_commander).
	IncidentCommander *schedule.Step `yaml:"incident_commander"`
	// OnCallPolicy is the policy shown as "who is on call".
	OnCallPolicy string `yaml:"oncall_policy"`
	// Severities define SEV1 to SEV4 (description, the alert severity
	// labels that map to each, whether an incident commander is required).
	Severities map[string]incidents.Definition `yaml:"severities"`
	// Services are the service catalogue.
	Services []catalog.Service `yaml:"services"`
	// StatusPage configures the public status page at /status.
	StatusPage StatusPage `yaml:"status_page"`
	// Receivers attach oncall's own integrations (an incident with its
	// escalation policy, the console) to receivers of the routing tree.
	Receivers []Receiver `yaml:"receivers"`
	Notify    Notify     `yaml:"notify"`
	Console   Console    `yaml:"console"`
	// Checklists configures oncall checklist (see the Checklists block).
	Checklists Checklists `yaml:"checklists"`
	// Postmortems configures oncall postmortem (see the Postmortems block).
	Postmortems Postmortems `yaml:"postmortems"`
	// Slack configures the Slack app, the incident-channel bot.
	Slack Slack `yaml:"slack"`
	// PagerDuty is where pages go for users with a pagerduty_key.
	PagerDuty PagerDuty `yaml:"pagerduty"`
	// Runtime tunes the Go runtime of the process.
	Runtime Runtime `yaml:"runtime"`

	// File is where the configuration was read from ("" for built-in).
	File string `yaml:"-"`
	root *yaml.Node
	// from names where a field's value came from when not the file (an
	// environment variable, a flag), for problems with it.
	from map[string]string
}

// SetFrom records that field's value came from source (ONCALL_SERVER_TOKEN,
// --server), so that a problem with it names that, not the file.
func (c *Config) SetFrom(field, source string) {
	if c.from == nil {
		c.from = map[string]string{}
	}
	c.from[field] = source
}

// Server configures `oncall serve` and how clients reach it.
type Server struct {
	Listen string `yaml:"listen"`
	// URL, when set, makes the TUI and CLI talk to that server instead of
	// starting one in-process.
	URL   string `yaml:"url"`
	Token string `yaml:"token"`
	// ExternalURL is how others reach this server; it is the externalURL
	// of webhook notifications. Default: http://<listen>.
	ExternalURL string `yaml:"external_url"`
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

// Alerts configures rule evaluation, routing and limits.
type Alerts struct {
	RuleFiles []string `yaml:"rule_files"`
	// SLOFiles are Sloth SLO specifications (prometheus/v1), rendered
	// into rule groups beside the catalogue's own SLOs and KPIs. Globs,
	// relative to this file.
	SLOFiles           []string      `yaml:"slo_files"`
	EvaluationInterval time.Duration `yaml:"evaluation_interval"`
	// AlertmanagerConfig is an alertmanager.yml, loaded unchanged: its
	// route tree, receivers, inhibit_rules and time_intervals route every
	// alert. Relative to this file.
	AlertmanagerConfig string `yaml:"alertmanager_config"`
	// Routing is the same configuration written inline instead.
	Routing yaml.Node `yaml:"routing"`
	// ReplicaLabels are dropped from alerts before they are identified, so
	// an HA pair of Prometheus servers pages once.
	ReplicaLabels []string `yaml:"replica_labels"`
	// MaxAlerts bounds the alerts held (an alert storm); 0 is no limit.
	MaxAlerts int `yaml:"max_alerts"`
	// ExternalLabels are what rule templates read as $externalLabels.
	ExternalLabels map[string]string `yaml:"external_labels"`
	// RemoteWrite is where recorded series go when the metrics come from
	// a Prometheus (with the embedded TSDB they are written to it).
	RemoteWrite RemoteWrite `yaml:"remote_write"`
	// Watchdog sends the always-firing OncallWatchdog alert to a receiver
	// (a dead man's switch outside oncall) while the pipeline runs.
	Watchdog Watchdog `yaml:"watchdog"`
}

// Watchdog is the heartbeat to an outside dead man's switch: the
// receiver (a webhook to Healthchecks, Dead Man's Snitch, a PagerDuty or
// Opsgenie heartbeat) gets OncallWatchdog firing every interval, and
// pages on its own side when it stops coming.
type Watchdog struct {
	Receiver string        `yaml:"receiver"`
	Interval time.Duration `yaml:"interval"`
}

// RemoteWrite is a Prometheus remote-write endpoint: Prometheus with
// --web.enable-remote-write-receiver, Mimir, Thanos Receive.
type RemoteWrite struct {
	URL         string        `yaml:"url"`
	BearerToken string        `yaml:"bearer_token"`
	Timeout     time.Duration `yaml:"timeout"`
}

// Receiver attaches oncall's own integrations to a receiver of the
// routing configuration (which must list it, possibly with no
// integrations of its own).
type Receiver struct {
	Name string `yaml:"name"`
	// Incident opens an incident for a firing group and escalates it.
	Incident *IncidentReceiver `yaml:"incident"`
	// Console writes the receiver's notifications to the console file.
	Console bool `yaml:"console"`
}

// IncidentReceiver names the escalation policy of the incidents a
// receiver opens, and their severity (by default the alert's severity
// label decides, through severities).
type IncidentReceiver struct {
	Policy   string             `yaml:"policy"`
	Severity incidents.Severity `yaml:"severity"`
}

// StatusPage is the public status page: the catalogue's services that
// have a public_name, and the public updates of their incidents.
type StatusPage struct {
	// Title heads the page (default "Status").
	Title string `yaml:"title"`
	// Disabled turns /status off.
	Disabled bool `yaml:"disabled"`
	// HistoryDays is how far back the page shows (default 90).
	HistoryDays int `yaml:"history_days"`
}

// Notify configures page delivery.
type Notify struct {
	Console ConsoleFile `yaml:"console"`
}

// ConsoleFile is the always-on receiver: pages are appended to a file and
// shown in the TUI.
type ConsoleFile struct {
	File string `yaml:"file"`
}

// Console configures the terminal console.
type Console struct {
	// Theme is auto (follow the terminal's background), dark or light.
	Theme string `yaml:"theme"`
	// Mouse turns on the mouse: the wheel scrolls, a click on a tab opens
	// its pane.
	Mouse bool `yaml:"mouse"`
	// ReadOnly turns acknowledging, resolving and silencing off.
	ReadOnly bool `yaml:"read_only"`
	// LogLines bounds the log pane's buffer.
	LogLines int `yaml:"log_lines"`
	// Renderer is on-demand (a frame the moment something changes,
	// nothing while nothing does) or fixed (Bubble Tea's renderer, 60
	// frames a second), for a terminal that draws the first badly.
	Renderer string `yaml:"renderer"`
}

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{
		Server:     Server{Listen: "127.0.0.1:7767"},
		Metrics:    Metrics{Scrape: Scrape{Interval: 15 * time.Second, Retention: 2 * time.Hour}, Prometheus: Prometheus{Timeout: 30 * time.Second}},
		Logs:       Logs{Buffer: 100_000},
		Alerts:     Alerts{EvaluationInterval: 15 * time.Second, MaxAlerts: 100_000},
		Console:    Console{Theme: "auto", LogLines: 100_000},
		StatusPage: StatusPage{Title: "Status", HistoryDays: 90},
	}
}

// People returns the users, rotations, schedules and policies by name.
func (c Config) People() schedule.Directory {
	d := schedule.Directory{Users: map[string]schedule.User{}, Rotations: map[string]schedule.Rotation{},
		Schedules: map[string]schedule.Schedule{}, Policies: map[string]schedule.Policy{}, Commander: c.IncidentCommander}
	for _, u := range c.Users {
		d.Users[u.Name] = u
	}
	for _, r := range c.Rotations {
		d.Rotations[r.Name] = r
	}
	for _, s := range c.Schedules {
		d.Schedules[s.Name] = s
	}
	for _, p := range c.Policies {
		d.Policies[p.Name] = p
	}
	return d
}

// IncidentSettings returns what the incident lifecycle reads of the
// configuration.
func (c Config) IncidentSettings() incidents.Settings {
	sev := incidents.Severities{}
	for name, d := range c.Severities {
		if s, err := incidents.ParseSeverity(name); err == nil {
			sev[s] = d
		}
	}
	return incidents.Settings{People: c.People(), Severities: sev}
}

// Catalog returns the service catalogue.
func (c Config) Catalog() catalog.Catalog { return catalog.Catalog{Services: c.Services} }

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
	if err := syntaxError(file, content); err != nil {
		return cfg, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(content, &root); err != nil {
		return cfg, fmt.Errorf("%s: syntax: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	cfg.root = &root
	if len(root.Content) == 0 {
		return cfg, cfg.Validate()
	}
	d := decoder{file: file}
	d.decode(&root, reflect.ValueOf(&cfg).Elem(), "")
	cfg.File, cfg.root = file, &root
	cfg.resolvePaths()
	return cfg, cfg.validate(d.problems)
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
	for i, p := range c.Alerts.SLOFiles {
		c.Alerts.SLOFiles[i] = abs(p)
	}
	for i, p := range c.Logs.Files {
		c.Logs.Files[i] = abs(p)
	}
	c.StateDir = abs(c.StateDir)
	c.Alerts.AlertmanagerConfig = abs(c.Alerts.AlertmanagerConfig)
	c.Notify.Console.File = abs(c.Notify.Console.File)
	c.Checklists.Dir = abs(c.Checklists.Dir)
	c.Postmortems.Directory, c.Postmortems.Template = abs(c.Postmortems.Directory), abs(c.Postmortems.Template)
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

// Routing loads the routing configuration: the alertmanager.yml, the
// inline one, or the default (everything to the console, by alertname).
func (c Config) Routing() (*routing.Config, error) {
	switch {
	case c.Alerts.AlertmanagerConfig != "":
		return routing.LoadFile(c.Alerts.AlertmanagerConfig)
	case c.Alerts.Routing.Kind != 0:
		return routing.ParseNode(c.File, &c.Alerts.Routing, "alerts.routing")
	default:
		return routing.Parse("", []byte(routing.Default))
	}
}

// OwnReceivers are oncall's receivers; with the default routing, its
// console receiver.
func (c Config) OwnReceivers() []Receiver {
	if len(c.Receivers) == 0 && c.Alerts.AlertmanagerConfig == "" && c.Alerts.Routing.Kind == 0 {
		return []Receiver{{Name: "console", Console: true}}
	}
	return c.Receivers
}

// Masked returns a copy with every secret replaced by "<secret>", for
// printing.
func (c Config) Masked() Config {
	mask := func(s *string) {
		if *s != "" {
			*s = "<secret>"
		}
	}
	mask(&c.Server.Token)
	mask(&c.Metrics.Prometheus.BearerToken)
	mask(&c.Alerts.RemoteWrite.BearerToken)
	mask(&c.Slack.SigningSecret)
	mask(&c.Slack.AppToken)
	mask(&c.Slack.BotToken)
	c.Users = slices.Clone(c.Users)
	for i := range c.Users {
		mask(&c.Users[i].PagerDutyKey)
	}
	c.Alerts.RemoteWrite.URL = secret.Redact(c.Alerts.RemoteWrite.URL)
	// A password in a URL is a secret too.
	c.Metrics.Prometheus.URL = secret.Redact(c.Metrics.Prometheus.URL)
	c.Server.URL = secret.Redact(c.Server.URL)
	c.Server.ExternalURL = secret.Redact(c.Server.ExternalURL)
	for i := range c.Metrics.Scrape.Targets {
		c.Metrics.Scrape.Targets[i].URL = secret.Redact(c.Metrics.Scrape.Targets[i].URL)
	}
	c.Checklists = c.Checklists.masked()
	// The inline routing is Alertmanager's configuration: receivers carry
	// credentials (webhook tokens, API keys, Slack URLs).
	if c.Alerts.Routing.Kind != 0 {
		c.Alerts.Routing = *maskNode(&c.Alerts.Routing)
	}
	return c
}

// secretKeys are the keys of Alertmanager's configuration whose whole
// value is a credential.
var secretKeys = map[string]bool{
	"password": true, "credentials": true, "bearer_token": true, "token": true, "api_key": true, "api_url": true,
	"routing_key": true, "service_key": true, "auth_password": true, "auth_secret": true, "client_secret": true,
	"secret": true, "webhook_url": true, "bot_token": true, "user_key": true, "api_secret": true,
}

// maskNode returns a copy of n with every credential masked: the values
// of secretKeys wholly, and passwords and credential parameters in any
// other string.
func maskNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = maskNode(ch)
	}
	switch c.Kind {
	case yaml.ScalarNode:
		c.Value = secret.Redact(c.Value)
	case yaml.MappingNode:
		for i := 0; i+1 < len(c.Content); i += 2 {
			if v := c.Content[i+1]; secretKeys[c.Content[i].Value] && v.Kind == yaml.ScalarNode && v.Value != "" {
				v.Value = "<secret>"
			}
		}
	}
	return &c
}

// YAML renders the configuration as a file would write it.
func (c Config) YAML() ([]byte, error) {
	if c.Alerts.Routing.Kind == 0 {
		c.Alerts.Routing = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return yaml.Marshal(c)
}

// --- Readiness checklists (oncall checklist) ---

// Checklists configures `oncall checklist`: custom checklists, where each
// service answers for the probes that talk to it, and the SMTP server the
// launch email goes through.
type Checklists struct {
	// Dir holds custom checklists, one YAML file each (relative to this
	// file); one named like a built-in checklist replaces it.
	Dir string `yaml:"dir"`
	// Services say where each catalogue service answers, by name.
	Services map[string]ChecklistService `yaml:"services"`
	// SMTP is the server `oncall checklist announce` sends through.
	SMTP SMTP `yaml:"smtp"`
	// Timeout bounds each probe (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// ChecklistService is where one service answers.
type ChecklistService struct {
	// URL is its public https:// URL (TLS, HSTS).
	URL string `yaml:"url"`
	// HTTPURL is the plain-HTTP URL that must redirect (default: http://
	// on the URL's host).
	HTTPURL string `yaml:"http_url"`
	// Versions are version endpoints by environment (production,
	// staging), for staging parity when no build_info metric says.
	Versions map[string]string `yaml:"versions"`
}

// SMTP is an SMTP server to send mail through.
type SMTP struct {
	// Addr is host:port (587 for submission with STARTTLS).
	Addr     string `yaml:"addr"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// From is the sender; To the recipients (engineering@...).
	From string   `yaml:"from"`
	To   []string `yaml:"to"`
	// RequireTLS refuses a server that does not offer STARTTLS.
	RequireTLS bool `yaml:"require_tls"`
}

// ChecklistTimeout is how long each probe may take.
func (c Checklists) ChecklistTimeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 30 * time.Second
}

// masked hides the SMTP password and the passwords in URLs.
func (c Checklists) masked() Checklists {
	if c.SMTP.Password != "" {
		c.SMTP.Password = "<secret>"
	}
	if c.Services != nil {
		svcs := make(map[string]ChecklistService, len(c.Services))
		for name, s := range c.Services {
			s.URL, s.HTTPURL = secret.Redact(s.URL), secret.Redact(s.HTTPURL)
			if s.Versions != nil {
				v := make(map[string]string, len(s.Versions))
				for env, u := range s.Versions {
					v[env] = secret.Redact(u)
				}
				s.Versions = v
			}
			svcs[name] = s
		}
		c.Services = svcs
	}
	return c
}

// Secrets are the credentials of the block, for hiding wherever they
// would be printed.
func (c Checklists) Secrets() []string { return []string{c.SMTP.Password} }

// --- Postmortems (oncall postmortem) ---

// Postmortems configures `oncall postmortem`: where the postmortems are,
// the template their body is scaffolded from, and how long postmortems
// and their action items have.
type Postmortems struct {
	// Directory holds the postmortems, one Markdown file each (relative
	// to this file; default: postmortems beside it). A git repository of
	// postmortems is the common setup.
	Directory string `yaml:"directory"`
	// Template is a Go text/template of the body that replaces the
	// built-in one (relative to this file).
	Template string `yaml:"template"`
	// ActionDueDays is how many days an action item has, by severity
	// (SEV1: 15, SEV2: 30; the others 60 unless set).
	ActionDueDays map[string]int `yaml:"action_due_days"`
	// DueDays is how many days after the incident resolved the draft is
	// due for review (default 5).
	DueDays int `yaml:"due_days"`
	// StuckAfter is how long a postmortem may stay in review before the
	// weekly review calls it stuck (default 7d).
	StuckAfter time.Duration `yaml:"stuck_after"`
}

// Dir is the postmortem directory: Directory, else postmortems beside
// the configuration file configFile (or in the working directory).
func (p Postmortems) Dir(configFile string) string {
	switch {
	case p.Directory != "":
		return p.Directory
	case configFile != "":
		return filepath.Join(filepath.Dir(configFile), "postmortems")
	}
	return "postmortems"
}

// ActionDays is the days an action item of severity sev has, if set.
func (p Postmortems) ActionDays(sev incidents.Severity) (int, bool) {
	for k, v := range p.ActionDueDays {
		if s, err := incidents.ParseSeverity(k); err == nil && s == sev {
			return v, true
		}
	}
	return 0, false
}
