// Package server is oncall's HTTP API: JSON endpoints for alerts, incidents,
// who is on call, pages, logs and queries (bearer-token auth), plus /healthz
// and the server's own /metrics. The TUI and the CLI are its clients.
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

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/engine"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Engine is the live state the API serves and acts on.
type Engine interface {
	Alerts() []alerts.RuleAlert
	OpenIncidents() []incidents.Incident
	OnCall(now time.Time) []oncall.Assignment
	Acknowledge(ctx context.Context, id int64, by string, now time.Time) (incidents.Incident, error)
	Resolve(ctx context.Context, id int64, by, why string, now time.Time) (incidents.Incident, error)
	LastError() error
}

// History is the stored past the API serves.
type History interface {
	Incidents(ctx context.Context, openOnly bool, limit int) ([]incidents.Incident, error)
	Incident(ctx context.Context, id int64) (incidents.Incident, error)
	RecentPages(ctx context.Context, limit int) ([]incidents.Page, error)
}

// LogReader serves buffered log entries: all of them in order (After) or
// the newest (Tail), for a console that must not lag behind.
type LogReader interface {
	After(seq uint64, limit int) []logs.Entry
	Tail(seq uint64, limit int) []logs.Entry
}

// Options configure the API.
type Options struct {
	Engine  Engine
	History History
	Source  metrics.Source
	Logs    LogReader // optional
	Rules   []alerts.Rule
	// Token, when set, is required as "Authorization: Bearer <token>" on /api/.
	Token    string
	Gatherer prometheus.Gatherer // for /metrics; optional
	Logger   *slog.Logger
	Now      func() time.Time
}

// Handler returns the HTTP handler of the API.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &api{o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	}
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/alerts", a.alerts)
	api.HandleFunc("GET /api/v1/rules", a.rules)
	api.HandleFunc("GET /api/v1/incidents", a.incidents)
	api.HandleFunc("GET /api/v1/incidents/{id}", a.incident)
	api.HandleFunc("POST /api/v1/incidents/{id}/ack", a.ack)
	api.HandleFunc("POST /api/v1/incidents/{id}/resolve", a.resolve)
	api.HandleFunc("GET /api/v1/oncall", a.oncall)
	api.HandleFunc("GET /api/v1/pages", a.pages)
	api.HandleFunc("GET /api/v1/logs", a.logs)
	api.HandleFunc("GET /api/v1/query", a.query)
	mux.Handle("/api/", a.auth(api))
	return mux
}

type api struct{ o Options }

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

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) {
	if err := a.o.Engine.LastError(); err != nil {
		fmt.Fprintf(w, "ok (last cycle: %v)\n", err)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (a *api) alerts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, nonNil(a.o.Engine.Alerts()))
}

func (a *api) rules(w http.ResponseWriter, _ *http.Request) { writeJSON(w, nonNil(a.o.Rules)) }

func (a *api) incidents(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("all") == "" {
		writeJSON(w, nonNil(a.o.Engine.OpenIncidents()))
		return
	}
	out, err := a.o.History.Incidents(r.Context(), false, intParam(r, "limit", 100))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, nonNil(out))
}

func (a *api) incident(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad incident id %q", r.PathValue("id")))
		return
	}
	inc, err := a.o.History.Incident(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, inc)
}

// ActRequest is the body of an acknowledge or resolve request.
type ActRequest struct {
	By  string `json:"by"`
	Why string `json:"why,omitempty"`
}

func (a *api) ack(w http.ResponseWriter, r *http.Request) {
	a.act(w, r, func(id int64, req ActRequest) (incidents.Incident, error) {
		return a.o.Engine.Acknowledge(r.Context(), id, req.By, a.o.Now())
	})
}

func (a *api) resolve(w http.ResponseWriter, r *http.Request) {
	a.act(w, r, func(id int64, req ActRequest) (incidents.Incident, error) {
		return a.o.Engine.Resolve(r.Context(), id, req.By, req.Why, a.o.Now())
	})
}

func (a *api) act(w http.ResponseWriter, r *http.Request, f func(int64, ActRequest) (incidents.Incident, error)) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad incident id %q", r.PathValue("id")))
		return
	}
	var req ActRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad request body: %w", err))
		return
	}
	if strings.TrimSpace(req.By) == "" {
		writeError(w, http.StatusBadRequest, errors.New(`"by" must name who acts`))
		return
	}
	inc, err := f(id, req)
	switch {
	case errors.Is(err, engine.ErrNotOpen):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, incidents.ErrAcked), errors.Is(err, incidents.ErrResolved):
		writeError(w, http.StatusConflict, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		a.o.Logger.Info("incident updated", "incident", inc.Ref(), "status", inc.Status.String(), "by", req.By)
		writeJSON(w, inc)
	}
}

func (a *api) oncall(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, nonNil(a.o.Engine.OnCall(a.o.Now())))
}

func (a *api) pages(w http.ResponseWriter, r *http.Request) {
	out, err := a.o.History.RecentPages(r.Context(), intParam(r, "limit", 50))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, nonNil(out))
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

func (a *api) query(w http.ResponseWriter, r *http.Request) {
	expr := r.URL.Query().Get("expr")
	if expr == "" {
		writeError(w, http.StatusBadRequest, errors.New(`missing "expr"`))
		return
	}
	at := a.o.Now()
	if s := r.URL.Query().Get("time"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("bad time %q: want RFC 3339", s))
			return
		}
		at = t
	}
	v, err := a.o.Source.Instant(r.Context(), expr, at)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	writeJSON(w, nonNil(v))
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

// ErrorBody is the JSON body of every error response.
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
	json.NewEncoder(w).Encode(ErrorBody{Error: err.Error()})
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
	return l, nil
}
