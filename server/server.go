// Package server is oncall's HTTP API: its own JSON API for alerts,
// incidents, who is on call, pages, logs and queries (the TUI and the CLI
// are its clients); Alertmanager's API v2, so a Prometheus sends its alerts
// here and amtool manages silences here; a receiver for an Alertmanager's
// webhook, so an existing Alertmanager can forward into oncall; /healthz and
// the server's own /metrics. Every /api/ route requires the bearer token
// when one is configured.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Pipeline is the alert pipeline the API feeds and reads.
type Pipeline interface {
	// Put receives validated alerts; it returns how many the limit refused.
	Put(now time.Time, as []alerts.Alert) int
	Alerts(ctx context.Context, now time.Time) ([]alerts.Alert, error)
	Groups(ctx context.Context, now time.Time) ([]alerts.Group, error)
	// SilencesChanged says a silence was made or expired.
	SilencesChanged()
	// IncidentsChanged says an incident changed through the API: pages
	// may be queued and its escalation timer moved.
	IncidentsChanged()
	// Role is "leader" or "standby"; Checks say whether it works.
	Role() string
	Checks(ctx context.Context, now time.Time) []health.Check
}

// LogReader serves buffered log entries: all of them in order (After) or
// the newest (Tail), for a console that must not lag behind.
type LogReader interface {
	After(seq uint64, limit int) []logs.Entry
	Tail(seq uint64, limit int) []logs.Entry
}

// Options configure the API.
type Options struct {
	Pipeline Pipeline
	Store    store.Store
	Routing  *routing.Config
	// Incidents are the people, policies and severities of incidents.
	Incidents incidents.Settings
	// OnCallPolicy is the policy shown as who is on call.
	OnCallPolicy string
	// Catalog is the service catalogue.
	Catalog catalog.Catalog
	// StatusPage configures the public status page.
	StatusPage StatusPage
	Source     metrics.Source
	Logs       LogReader // optional
	// Rules lists the rules in effect (they change on a reload); optional.
	Rules func() []alerts.Rule
	// Slack, when set, is the Slack app's Events API and interactivity
	// endpoint, served at POST /slack/events and /slack/interactive
	// outside the token's reach: Slack signs its requests instead.
	Slack http.Handler
	// Checklists returns the readiness checklists (nil: the built-in ones).
	Checklists func() ([]checklist.Checklist, error)
	// Token, when set, is required as "Authorization: Bearer <token>" on /api/.
	Token    string
	Gatherer prometheus.Gatherer // for /metrics; optional
	Logger   *slog.Logger
	Now      func() time.Time
	// MaxBody bounds request bodies (default 32 MiB).
	MaxBody int64
	// QueryTimeout bounds a query's evaluation (default 30s).
	QueryTimeout time.Duration
	// Done, when closed, ends every stream: a shutdown need not wait for
	// consoles to hang up.
	Done <-chan struct{}
	// StreamInterval is how often /api/v1/stream rebuilds the state it
	// pushes (default 1s); LogInterval how often it polls Logs for each
	// subscriber (default 100ms).
	StreamInterval, LogInterval time.Duration
}

// Handler returns the HTTP handler of the API.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 32 << 20
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = queryTimeout
	}
	a := &api{o: o, started: o.Now(), queries: newGate(queriesPerClient)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /-/healthy", a.healthy)
	mux.HandleFunc("GET /-/ready", a.ready)
	mux.HandleFunc("GET /healthz", a.ready)
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	}
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/alerts", a.alerts)
	api.HandleFunc("GET /api/v1/rules", a.rules)
	api.HandleFunc("GET /api/v1/alerts/history", a.history)
	a.incidentRoutes(api)
	a.oncallRoutes(api)
	a.checklistRoutes(api)
	api.HandleFunc("GET /api/v1/pages", a.pages)
	api.HandleFunc("GET /api/v1/logs", a.logs)
	api.HandleFunc("GET /api/v1/stream", a.streamHandler())
	api.HandleFunc("GET /api/v1/query", a.promQuery)
	api.HandleFunc("POST /api/v1/query", a.promQuery)
	api.HandleFunc("GET /api/v1/query_range", a.promQueryRange)
	api.HandleFunc("POST /api/v1/query_range", a.promQueryRange)
	api.HandleFunc("POST /api/v1/webhook/alertmanager", a.alertmanagerWebhook)
	a.alertmanagerRoutes(api)
	a.postmortemRoutes(api)
	mux.Handle("/api/", a.auth(api))
	if o.Slack != nil {
		mux.Handle("POST /slack/events", o.Slack)
		mux.Handle("POST /slack/interactive", o.Slack)
	}
	a.statusRoutes(mux)
	return mux
}

type api struct {
	o       Options
	started time.Time
	queries *gate
}

func (a *api) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.o.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.o.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="oncall"`)
				writeError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// healthy answers while the process runs.
func (a *api) healthy(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"healthy": true, "server": "oncall"})
}

// ready answers 200 when every readiness check passes, else 503, with the
// checks and their reasons (never a secret): what an orchestrator, an
// outside dead man's switch and the console read.
func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	rep := a.readiness(r.Context(), a.o.Now())
	w.Header().Set("Content-Type", "application/json")
	if !rep.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(rep)
}

// readiness is the report of /-/ready (and of the stream's "ready").
func (a *api) readiness(ctx context.Context, now time.Time) health.Report {
	return health.NewReport(a.o.Pipeline.Role(), a.o.Pipeline.Checks(ctx, now))
}

func (a *api) alerts(w http.ResponseWriter, r *http.Request) {
	b, err := a.alertsJSON(r.Context(), a.o.Now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// alertsJSON is the JSON array of the current alerts (of /api/v1/alerts
// and of the stream's "alerts"), with room for a newline.
func (a *api) alertsJSON(ctx context.Context, now time.Time) ([]byte, error) {
	as, err := a.o.Pipeline.Alerts(ctx, now)
	if err != nil {
		return nil, err
	}
	// Written directly: encoding/json would re-validate every alert's bytes.
	b := make([]byte, 0, 256*len(as)+3)
	b = append(b, '[')
	for i := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = as[i].AppendJSON(b)
	}
	return append(b, ']'), nil
}

func (a *api) rules(w http.ResponseWriter, _ *http.Request) { writeJSON(w, a.ruleList()) }

// history lists alert transitions, oldest first: since and until (RFC
// 3339) bound them, alert keeps one alertname's, limit the newest so many
// (default 1000).
func (a *api) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.HistoryFilter{Name: q.Get("alert"), Limit: intParam(r, "limit", 1000)}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("%s: %q is not an RFC 3339 time", p.name, s))
			return
		}
		*p.t = t
	}
	out, err := a.o.Store.History(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, nonNil(out))
}

// ruleList is what /api/v1/rules (and the stream's "rules") lists.
func (a *api) ruleList() []alerts.Rule {
	if a.o.Rules == nil {
		return []alerts.Rule{}
	}
	return nonNil(a.o.Rules())
}

// pages lists the newest pages with their delivery state.
func (a *api) pages(w http.ResponseWriter, r *http.Request) {
	out, err := a.recentPages(r.Context(), intParam(r, "limit", 50))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, out)
}

// recentPages is the newest limit pages with their delivery state.
func (a *api) recentPages(ctx context.Context, limit int) ([]incidents.Page, error) {
	ms, err := a.o.Store.Messages(ctx, store.MessageFilter{Kind: notify.KindPage, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]incidents.Page, 0, len(ms))
	for _, m := range ms {
		if m.Page == nil {
			continue
		}
		p := *m.Page
		p.ID, p.SentAt, p.Attempts, p.LastError = m.ID, m.SentAt, m.Attempts, m.LastError
		out = append(out, p)
	}
	return out, nil
}

func (a *api) logs(w http.ResponseWriter, r *http.Request) {
	if a.o.Logs == nil {
		writeJSON(w, []logs.Entry{})
		return
	}
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	limit := intParam(r, "limit", 500)
	if r.URL.Query().Get("tail") != "" {
		writeJSON(w, nonNil(a.o.Logs.Tail(after, limit)))
		return
	}
	writeJSON(w, nonNil(a.o.Logs.After(after, limit)))
}

func intParam(r *http.Request, name string, def int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil && n > 0 {
		return min(n, 10_000)
	}
	return def
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ErrorBody is the JSON body of every error response of oncall's own API.
type ErrorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(ErrorBody{Error: secret.Redact(err.Error())})
}

// Listen opens the listener for addr, refusing a non-loopback address
// without a token: the API can acknowledge pages.
func Listen(addr, token string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("server.listen %q: %w", addr, err)
	}
	if token == "" {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("server.listen %q is not loopback: set server.token (or ONCALL_SERVER_TOKEN) first", addr)
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server.listen %q: %w", addr, err)
	}
	// A bound on open connections, so that slow clients cannot take
	// every file descriptor; beyond it, new ones wait in the backlog.
	return netutil.LimitListener(l, MaxConnections), nil
}

// MaxConnections bounds the connections the server holds open at once.
const MaxConnections = 2048
