package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/prometheus/model/labels"
	"golang.org/x/sync/errgroup"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/engine"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/console"
	"github.com/oncallhq/oncall/incidents/oncall"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// stack is a running oncall server: sources, engine, store, receivers and
// the HTTP API, wired from a validated configuration.
type stack struct {
	cfg      config.Config
	log      *slog.Logger
	source   metrics.Source
	embedded *metrics.Embedded // nil with a Prometheus source
	logs     *logPipeline
	store    *store.SQLite
	console  *console.Receiver
	engine   *engine.Engine
	listener net.Listener
	handler  http.Handler
	closers  []func() error
	// warmup, when set, runs once the API is up and before scraping and
	// evaluation start (the demo backfills its history there).
	warmup func(ctx context.Context)
}

// newStack wires everything; nothing runs until run. Any problem — bad
// rules, unreachable Prometheus, port in use — is returned before anything
// starts, so a bad config never starts a half-working server.
func newStack(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *stack, err error) {
	s := &stack{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	rules, err := alerts.LoadRuleFiles(cfg.Alerts.RuleFiles)
	if err != nil {
		return nil, err
	}
	if rules.Recording > 0 {
		log.Warn("recording rules are not evaluated by oncall; let Prometheus record them", "count", rules.Recording)
	}
	routes, err := cfg.Routes()
	if err != nil {
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
	if s.store, err = store.OpenSQLite(filepath.Join(state, "oncall.db")); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.store.Close)
	pagesFile := cfg.Notify.Console.File
	if pagesFile == "" {
		pagesFile = filepath.Join(state, "pages.log")
	}
	if s.console, err = console.Open(pagesFile); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.console.Close)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), s.logs)
	dir := directory(cfg)
	policy := cfg.OnCallPolicy
	if policy == "" && len(cfg.Policies) > 0 {
		policy = cfg.Policies[0].Name
	}
	s.engine, err = engine.New(ctx, engine.Options{
		Rules: rules.Rules, Source: s.source, Routes: routes, Directory: dir, Policy: policy,
		Store: s.store, Notifier: s.console, Logger: log, Metrics: engine.NewMetrics(reg),
	})
	if err != nil {
		return nil, err
	}
	if s.listener, err = server.Listen(cfg.Server.Listen, cfg.Server.Token); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.listener.Close)
	s.handler = server.Handler(server.Options{
		Engine: s.engine, History: s.store, Source: s.source, Logs: s.logs, Rules: rules.Rules,
		Token: cfg.Server.Token, Gatherer: reg, Logger: log,
	})
	return s, nil
}

func (s *stack) openSource(ctx context.Context) error {
	m := s.cfg.Metrics
	if m.Prometheus.URL != "" {
		p, err := metrics.NewPrometheus(metrics.PrometheusOptions{URL: m.Prometheus.URL, BearerToken: m.Prometheus.BearerToken, Timeout: m.Prometheus.Timeout})
		if err != nil {
			return fmt.Errorf("metrics.prometheus.url: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := p.Ping(pctx); err != nil {
			return fmt.Errorf("metrics.prometheus.url: %w", err)
		}
		s.source = p
		return nil
	}
	targets := make([]metrics.Target, len(m.Scrape.Targets))
	for i, t := range m.Scrape.Targets {
		targets[i] = metrics.Target{Job: t.Job, URL: t.URL}
	}
	e, err := metrics.NewEmbedded(metrics.EmbeddedOptions{
		Dir: filepath.Join(s.cfg.StatePath(), "tsdb"), Retention: m.Scrape.Retention,
		ScrapeInterval: m.Scrape.Interval, Targets: targets, Logger: s.log,
	})
	if err != nil {
		return err
	}
	s.embedded, s.source = e, e
	s.closers = append(s.closers, e.Close)
	return nil
}

func directory(cfg config.Config) incidents.Directory {
	d := incidents.Directory{Policies: map[string]oncall.Policy{}, Schedules: map[string]oncall.Schedule{}}
	for _, p := range cfg.Policies {
		d.Policies[p.Name] = p
	}
	for _, s := range cfg.Schedules {
		d.Schedules[s.Name] = s
	}
	return d
}

// url is the base URL clients use to reach the stack's API.
func (s *stack) url() string { return "http://" + s.listener.Addr().String() }

// run serves until ctx is done, then shuts down in order.
func (s *stack) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	g.Go(func() error {
		if err := srv.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		if s.warmup != nil {
			s.warmup(ctx)
		}
		if s.embedded != nil {
			g.Go(func() error { return ignoreCanceled(s.embedded.Run(ctx)) })
		}
		g.Go(func() error { return ignoreCanceled(s.logs.run(ctx)) })
		return ignoreCanceled(s.engine.Run(ctx, s.cfg.Alerts.EvaluationInterval))
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Warn("close", "err", err)
		}
	}
	s.closers = nil
}

// randomToken returns a fresh bearer token for an in-process server.
func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
