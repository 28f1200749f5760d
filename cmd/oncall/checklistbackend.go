package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/oncallhq/oncall/app"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/checklist/probe"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// Where the checklist commands keep runs and records (the server, or the
// state directory's store), and the probes they run.

// checklistBackend is where runs and records are kept: the server, or
// the store opened directly.
type checklistBackend interface {
	Runs(ctx context.Context, checklist, service string, limit int) ([]checklist.Run, error)
	AddRun(ctx context.Context, run *checklist.Run) error
	Records(ctx context.Context, checklist, service string) ([]checklist.Record, error)
	AddRecord(ctx context.Context, cl checklist.Checklist, req checklist.Request) (checklist.Record, error)
	probe.IncidentLister
	Where() string
	Close() error
}

// openChecklistBackend returns the server's API when a server answers,
// else the store of the state directory.
func openChecklistBackend(ctx context.Context, cfg config.Config) (checklistBackend, error) {
	c, err := findServer(ctx, cfg)
	if err == nil {
		return checklistServerBackend{c}, nil
	}
	if !errors.Is(err, errNoServer) {
		return nil, err
	}
	st, err := sqlite.Open(filepath.Join(cfg.StatePath(), "oncall.db"))
	if err != nil {
		return nil, err
	}
	return checklistStoreBackend{st: st, cat: cfg.Catalog()}, nil
}

type checklistServerBackend struct{ c *client.Client }

// serverLogFiles samples the log files a running server tails (the
// sources its buffered entries name), when the configuration here names
// none: the format is judged on the lines as written, which the API does
// not carry.
type serverLogFiles struct{ c *client.Client }

// Sample implements probe.LogSampler.
func (s serverLogFiles) Sample(ctx context.Context, f logs.Filter, n int) ([][]byte, error) {
	entries, err := s.c.TailLogs(ctx, 0, 1000)
	if err != nil {
		return nil, fmt.Errorf("the server's logs: %w", err)
	}
	var files, elsewhere []string
	for _, e := range entries {
		switch {
		case !filepath.IsAbs(e.Source) || slices.Contains(files, e.Source) || slices.Contains(elsewhere, e.Source):
		case fileReadable(e.Source):
			files = append(files, e.Source)
		default:
			elsewhere = append(elsewhere, e.Source)
		}
	}
	if len(files) == 0 {
		if len(elsewhere) > 0 {
			return nil, fmt.Errorf("the server reads its logs from %s, which this machine cannot read: set logs.files", strings.Join(elsewhere, ", "))
		}
		return nil, errors.New("the server tails no log file: set logs.files")
	}
	return probe.FileLogs{Patterns: files}.Sample(ctx, f, n)
}

// fileReadable reports whether path opens for reading here.
func fileReadable(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func (b checklistServerBackend) Runs(ctx context.Context, cl, svc string, limit int) ([]checklist.Run, error) {
	return b.c.ChecklistRuns(ctx, cl, svc, limit)
}
func (b checklistServerBackend) AddRun(ctx context.Context, run *checklist.Run) error {
	out, err := b.c.AddChecklistRun(ctx, *run)
	run.ID = out.ID
	return err
}
func (b checklistServerBackend) Records(ctx context.Context, cl, svc string) ([]checklist.Record, error) {
	return b.c.ChecklistRecords(ctx, cl, svc, false)
}
func (b checklistServerBackend) AddRecord(ctx context.Context, cl checklist.Checklist, req checklist.Request) (checklist.Record, error) {
	return b.c.AddChecklistRecord(ctx, cl.Name, req)
}
func (b checklistServerBackend) IncidentsSince(ctx context.Context, since time.Time) ([]incidents.Incident, error) {
	return b.c.IncidentsSince(ctx, since)
}
func (b checklistServerBackend) Where() string {
	return "the oncall server " + secret.Redact(b.c.URL())
}
func (b checklistServerBackend) Close() error { return nil }

type checklistStoreBackend struct {
	st  *sqlite.Store
	cat catalog.Catalog
}

func (b checklistStoreBackend) Runs(ctx context.Context, cl, svc string, limit int) ([]checklist.Run, error) {
	return b.st.ChecklistRuns(ctx, store.ChecklistRunFilter{Checklist: cl, Service: svc, Limit: limit})
}
func (b checklistStoreBackend) AddRun(ctx context.Context, run *checklist.Run) error {
	return b.st.AddChecklistRun(ctx, run)
}
func (b checklistStoreBackend) Records(ctx context.Context, cl, svc string) ([]checklist.Record, error) {
	return b.st.ChecklistRecords(ctx, store.ChecklistRecordFilter{Checklist: cl, Service: svc})
}
func (b checklistStoreBackend) AddRecord(ctx context.Context, cl checklist.Checklist, req checklist.Request) (checklist.Record, error) {
	rec, err := cl.Record(b.cat, req, checklistNow())
	if err != nil {
		return rec, err
	}
	return rec, b.st.AddChecklistRecord(ctx, &rec)
}
func (b checklistStoreBackend) IncidentsSince(ctx context.Context, since time.Time) ([]incidents.Incident, error) {
	return b.st.Incidents(ctx, store.IncidentFilter{Since: since, Limit: 1000})
}
func (b checklistStoreBackend) Where() string { return "the store " + b.st.Path() }
func (b checklistStoreBackend) Close() error  { return b.st.Close() }

// checklistProbers wires the probes to the configuration: the rules,
// routes, receivers and people; the metrics source (the server's query
// API, or the Prometheus); the log files; the incidents of the backend.
func checklistProbers(ctx context.Context, cfg config.Config, be checklistBackend) map[string]checklist.Prober {
	var q probe.Querier
	if src, err := querier(ctx, cfg); err == nil {
		q = src
	}
	ps := map[string]checklist.Prober{
		checklist.ProbeTLS:     probe.TLS{},
		checklist.ProbeRunbook: probe.Runbook{},
		checklist.ProbeStaging: probe.Staging{Query: q},
		checklist.ProbeDrill:   probe.Drill{Incidents: be},
	}
	logging := probe.Logging{}
	if len(cfg.Logs.Files) > 0 {
		logging.Logs = probe.FileLogs{Patterns: cfg.Logs.Files}
	} else if sb, ok := be.(checklistServerBackend); ok {
		logging.Logs = serverLogFiles{sb.c}
	}
	ps[checklist.ProbeLogging] = logging
	set, rerr := app.LoadRules(cfg) // the generated SLO and KPI rules count too
	rc, cerr := cfg.Routing()
	if err := errors.Join(rerr, cerr); err != nil {
		ps[checklist.ProbeAlerts] = checklist.ProberFunc(func(context.Context, checklist.Target) checklist.Result {
			return checklist.Result{Status: checklist.Error, Summary: "the rules or the routing do not load: " + secret.Redact(err.Error())}
		})
		return ps
	}
	own := map[string]string{}
	for _, r := range cfg.OwnReceivers() {
		if r.Incident != nil {
			own[r.Name] = r.Incident.Policy
		}
	}
	ps[checklist.ProbeAlerts] = probe.Alerts{Rules: set.Rules, Routing: rc, Incidents: own, People: cfg.People(), Query: q}
	return ps
}
