// Package app builds a running oncall from a configuration: the metrics
// and log sources, the store, the routing configuration, the receivers,
// the pipeline and the HTTP server. Nothing runs until Run, and any problem
// (bad rules, a bad alertmanager.yml, a port in
// use, a store that is not the one this state directory had) is reported
// before anything starts, so a bad configuration never half-runs.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/prometheus/model/labels"
	"golang.org/x/sync/errgroup"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/pipeline"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/slackbot"
	"github.com/oncallhq/oncall/statuspage"
	"github.com/oncallhq/oncall/store/sqlite"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Options change how a Stack is built.
type Options struct {
	// AdoptStore accepts a store whose identity differs from the one this
	// state directory recorded (an emptied or replaced oncall.db).
	AdoptStore bool
	// HangupQuits leaves SIGHUP to the caller: behind a console, a hangup
	// is the terminal going away, not a request to reload the rules.
	HangupQuits bool
	// Command says what runs the stack ("oncall serve", "the oncall
	// console"), for a second process that finds the state directory busy.
	Command string
}

// Stack is a running oncall server.
type Stack struct {
	cfg      config.Config
	log      *slog.Logger
	source   metrics.Source
	embedded *metrics.Embedded // nil with a Prometheus source
	logs     *logPipeline
	probe    *probe // nil with the embedded source
	store    *sqlite.Store
	pipeline *pipeline.Pipeline
	listener net.Listener
	handler  http.Handler
	// slack runs the Slack app over Socket Mode (nil without an
	// app-level token).
	slack func(ctx context.Context) error
	// channels opens and tells the incidents' Slack channels (nil when
	// slack.incident_channels is off).
	channels func(ctx context.Context)
	closers  []func() error
	// reload says whether SIGHUP reloads the rules (not behind a console).
	reload bool
	// stopping is closed when Run shuts down: streams end at once.
	stopping chan struct{}
	// Warmup, when set, runs once the API is up and before scraping and
	// evaluation start (the demo backfills its history there).
	Warmup func(ctx context.Context)
}

// New wires everything from a validated configuration.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (_ *Stack, err error) {
	s := &Stack{cfg: cfg, log: log, stopping: make(chan struct{}), reload: !opts.HangupQuits}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	rc, err := cfg.Routing()
	if err != nil {
		return nil, err
	}
	if err := privateDir(cfg.StatePath()); err != nil {
		return nil, err
	}
	if err := s.openSource(ctx); err != nil {
		return nil, err
	}
	if s.logs, err = newLogPipeline(cfg.Logs); err != nil {
		return nil, err
	}
	s.logs.log = log
	if s.embedded != nil {
		// Log rule counts go straight into the embedded TSDB, labelled like
		// a scrape of oncall itself, so alerting rules see them at once.
		s.logs.record = func(name string, count float64, at time.Time) {
			ls := labels.FromStrings("__name__", logMatchesMetric, "job", "oncall", "rule", name)
			if err := s.embedded.Append(ls, at, count); err != nil {
				log.Debug("record log rule", "rule", name, "err", err)
			}
		}
	}
	state := cfg.StatePath()
	if s.store, err = sqlite.Open(filepath.Join(state, "oncall.db")); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.store.Close)
	if err := checkIdentity(state, s.store, opts.AdoptStore); err != nil {
		return nil, err
	}
	if s.listener, err = server.Listen(cfg.Server.Listen, cfg.Server.Token); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.listener.Close)
	if s.embedded != nil {
		release, err := writeOwner(state, s.URL(), opts.Command)
		if err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		s.closers = append(s.closers, release)
	}
	external := cfg.Server.ExternalURL
	if external == "" {
		external = "http://" + s.listener.Addr().String()
	}
	d, err := newDelivery(cfg, rc, external, s.store, log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, d.Close)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), s.logs)
	if s.embedded != nil {
		reg.MustRegister(s.embedded.Collector())
	}
	settings := cfg.IncidentSettings()
	var own []pipeline.Receiver
	for _, r := range cfg.OwnReceivers() {
		pr := pipeline.Receiver{Name: r.Name, Console: r.Console}
		if r.Incident != nil {
			pr.Policy, pr.Severity = r.Incident.Policy, r.Incident.Severity
		}
		own = append(own, pr)
	}
	if p, ok := s.source.(*metrics.Prometheus); ok {
		s.probe = &probe{src: p, interval: min(cfg.Alerts.EvaluationInterval, 30*time.Second)}
	}
	popts := pipeline.Options{
		Routing: rc, Receivers: own, Incidents: settings, Store: s.store, Route: d.route,
		EvaluationInterval: cfg.Alerts.EvaluationInterval, ReplicaLabels: cfg.Alerts.ReplicaLabels,
		MaxAlerts: cfg.Alerts.MaxAlerts, Logger: log, Metrics: pipeline.NewMetrics(reg),
		WatchdogReceiver: cfg.Alerts.Watchdog.Receiver, WatchdogInterval: cfg.Alerts.Watchdog.Interval, NoDataQuery: s.source,
	}
	if len(cfg.Alerts.RuleFiles) > 0 || GeneratesRules(cfg) {
		// Leniently: a broken file or group is reported (and raises
		// OncallRuleFilesInvalid) while the other groups run.
		eo := alerts.EngineOptions{Files: cfg.Alerts.RuleFiles, Interval: cfg.Alerts.EvaluationInterval, Query: alerts.SourceQuery(s.source),
			ExternalURL: external, ExternalLabels: labels.FromMap(cfg.Alerts.ExternalLabels), Logger: log, Registerer: reg, Lenient: true,
			Generate: RuleGenerator(cfg)}
		switch rw := cfg.Alerts.RemoteWrite; {
		case s.embedded != nil:
			eo.Appendable, eo.Query = s.embedded, s.embedded.RuleQuery
		case rw.URL != "":
			w, err := metrics.NewRemoteWrite(metrics.RemoteWriteOptions{URL: rw.URL, BearerToken: rw.BearerToken, Timeout: rw.Timeout, Logger: log})
			if err != nil {
				return nil, fmt.Errorf("alerts.remote_write: %w", err)
			}
			s.closers = append(s.closers, w.Close)
			eo.Appendable = w
		}
		eng, err := alerts.NewEngine(eo)
		if err != nil {
			return nil, err
		}
		for _, pr := range eng.Problems() {
			log.Error("rule file does not load: its broken groups are not evaluated", "file", pr.File, "err", pr.Err)
		}
		if n := recording(eng.Rules()); n > 0 && eo.Appendable == nil {
			log.Warn("recording rules are evaluated, but with metrics from Prometheus their series have nowhere to go until alerts.remote_write names an endpoint; rules that read them see nothing", "count", n)
		}
		popts.Rules = eng
	}
	popts.Checks = func(ctx context.Context, now time.Time) []health.Check {
		var out []health.Check
		if s.probe != nil {
			out = append(out, s.probe.check(ctx, now)...)
		}
		return append(out, s.logs.check(ctx, now)...)
	}
	if s.pipeline, err = pipeline.New(popts); err != nil {
		return nil, err
	}
	policy := cfg.OnCallPolicy
	if policy == "" && len(cfg.Policies) > 0 {
		policy = cfg.Policies[0].Name
	}
	self := &slackbot.Self{} // the bot, learnt by the incident channels
	s.handler = server.Handler(server.Options{
		Pipeline: s.pipeline, Store: s.store, Routing: rc, Incidents: settings, Catalog: cfg.Catalog(), OnCallPolicy: policy,
		StatusPage: statusPage(cfg),
		Source:     s.source, Logs: s.logs, Rules: s.pipeline.Rules, Token: cfg.Server.Token, Gatherer: reg, Logger: log,
		Done: s.stopping, Slack: slackHTTP(cfg, s.store, s.pipeline, self, log),
	})
	s.slack = slackSocket(cfg, s.store, s.pipeline, self, log)
	s.channels = slackChannels(cfg, s.store, self, log)
	return s, nil
}

// recording counts the recording rules among rs.
func recording(rs []alerts.Rule) int {
	n := 0
	for _, r := range rs {
		if r.Record {
			n++
		}
	}
	return n
}

func (s *Stack) openSource(ctx context.Context) error {
	m := s.cfg.Metrics
	if m.Prometheus.URL != "" {
		p, err := metrics.NewPrometheus(metrics.PrometheusOptions{URL: m.Prometheus.URL, BearerToken: m.Prometheus.BearerToken, Timeout: m.Prometheus.Timeout})
		if err != nil {
			return fmt.Errorf("metrics.prometheus.url: %w", err)
		}
		// A Prometheus that does not answer is an outage, not a bad
		// configuration: start anyway, so that who is on call, incidents and
		// alerts posted from elsewhere keep working, and say so loudly —
		// readiness fails and the OncallNotReady watchdog alert fires.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := p.Ping(pctx); err != nil {
			s.log.Error("the metrics source does not answer: starting blind (rules cannot be evaluated until it does)", "url", m.Prometheus.URL, "err", err)
		}
		s.source = p
		return nil
	}
	targets := make([]metrics.Target, len(m.Scrape.Targets))
	for i, t := range m.Scrape.Targets {
		targets[i] = metrics.Target{Job: t.Job, URL: t.URL}
	}
	dir := filepath.Join(s.cfg.StatePath(), "tsdb")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if err := checkTSDBFree(s.cfg.StatePath(), dir); err != nil {
		return err
	}
	e, err := metrics.NewEmbedded(metrics.EmbeddedOptions{
		Dir: dir, Retention: m.Scrape.Retention,
		ScrapeInterval: m.Scrape.Interval, Targets: targets, Logger: s.log,
	})
	if err != nil {
		return err
	}
	s.embedded, s.source = e, e
	s.closers = append(s.closers, e.Close)
	return nil
}

// privateDir makes the state directory readable by its owner only, before
// the TSDB or the store creates anything in it, and tightens one that
// exists: it holds incidents, silences and the outbox.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	return nil
}

// statusPage is the status page's configuration: on unless disabled,
// published at the external URL.
func statusPage(cfg config.Config) server.StatusPage {
	sp := cfg.StatusPage
	return server.StatusPage{Disabled: sp.Disabled, Options: statuspage.Options{Title: sp.Title, HistoryDays: sp.HistoryDays, URL: cfg.Server.ExternalURL}}
}

// URL is the base URL clients use to reach the stack's API.
func (s *Stack) URL() string { return "http://" + s.listener.Addr().String() }

// Config is the configuration the stack runs with.
func (s *Stack) Config() config.Config { return s.cfg }

// Embedded is the embedded TSDB (nil with a Prometheus source).
func (s *Stack) Embedded() *metrics.Embedded { return s.embedded }

// Run serves until ctx is done, then shuts down in order.
func (s *Stack) Run(ctx context.Context) error {
	parent := ctx
	g, ctx := errgroup.WithContext(ctx)
	// stopped keeps what a part says as it stops for a shutdown (a store
	// query interrupted, a scrape cut short) out of the exit status: it is
	// logged, and the process exits 0 as asked.
	stopped := func(what string, err error) error {
		if err == nil || errors.Is(err, context.Canceled) {
			return nil
		}
		if parent.Err() != nil {
			s.log.Warn("while shutting down", "part", what, "err", err)
			return nil
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	srv := server.NewHTTPServer(s.handler, server.DefaultTimeouts)
	g.Go(func() error {
		if err := srv.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return stopped("http server", err)
		}
		return nil
	})
	g.Go(func() error {
		if s.Warmup != nil {
			s.Warmup(ctx)
		}
		if s.embedded != nil {
			g.Go(func() error { return stopped("scraper", s.embedded.Run(ctx)) })
		}
		g.Go(func() error { return stopped("logs", s.logs.run(ctx)) })
		if s.probe != nil {
			g.Go(func() error { return stopped("metrics probe", s.probe.run(ctx)) })
		}
		g.Go(func() error { s.backups(ctx); return nil })
		if s.slack != nil {
			g.Go(func() error { return stopped("slack", s.slack(ctx)) })
		}
		if s.channels != nil {
			g.Go(func() error { s.channels(ctx); return nil })
		}
		if s.reload {
			g.Go(func() error { s.reloadOnHangup(ctx); return nil })
		}
		return stopped("pipeline", s.pipeline.Run(ctx))
	})
	g.Go(func() error {
		<-ctx.Done()
		close(s.stopping)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return stopped("http shutdown", srv.Shutdown(sctx))
	})
	return g.Wait()
}

// backupEvery is how often the store is copied beside itself.
const backupEvery = 6 * time.Hour

// reloadOnHangup reads the rule files again on SIGHUP, as Prometheus
// does (they are also read again whenever they change).
func (s *Stack) reloadOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.log.Info("SIGHUP: reloading the rule files")
			s.pipeline.ReloadRules()
		}
	}
}

// backups copies the store now if its backup is older than backupEvery
// (a store that never closed cleanly has none), then every backupEvery,
// until ctx is done.
func (s *Stack) backups(ctx context.Context) {
	if s.store.BackupAge(time.Now()) > backupEvery {
		if err := s.store.Backup(ctx); err != nil {
			s.log.Error("store backup", "err", err)
		}
	}
	t := time.NewTicker(backupEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.store.Backup(ctx); err != nil {
				s.log.Error("store backup", "err", err)
			}
		}
	}
}

// Close releases everything New opened.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Warn("close", "err", err)
		}
	}
	s.closers = nil
}

// RandomToken returns a fresh bearer token for an in-process server.
func RandomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
