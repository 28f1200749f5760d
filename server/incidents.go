package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/store"
)

func (a *api) incidentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/incidents", a.incidents)
	mux.HandleFunc("POST /api/v1/incidents", a.declare)
	mux.HandleFunc("GET /api/v1/incidents/{id}", a.incident)
	mux.HandleFunc("GET /api/v1/incidents/{id}/chat", a.incidentChat)
	mux.HandleFunc("POST /api/v1/incidents/{id}/{action}", a.act)
	mux.HandleFunc("POST /api/v1/incidents/{id}/tasks/{task}/done", a.act)
	mux.HandleFunc("GET /api/v1/severities", a.severities)
}

func (a *api) incidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.IncidentFilter{OpenOnly: q.Get("all") == "", Limit: intParam(r, "limit", 100)}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("since: %q is not an RFC 3339 time", s))
			return
		}
		f.Since = t
	}
	out, err := a.listIncidents(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, out)
}

// listIncidents lists incidents as /api/v1/incidents does: the open ones
// all and oldest first, else the newest f.Limit.
func (a *api) listIncidents(ctx context.Context, f store.IncidentFilter) ([]incidents.Incident, error) {
	if f.OpenOnly {
		f.Limit = 0
	}
	out, err := a.o.Store.Incidents(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range out {
		a.annotate(&out[i])
	}
	if f.OpenOnly {
		// Oldest first: the one that has waited longest on top.
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return nonNil(out), nil
}

func incidentID(r *http.Request) (int64, error) {
	v := strings.TrimPrefix(strings.ToUpper(r.PathValue("id")), "INC-")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("bad incident id %q: want a number or INC-<number>", r.PathValue("id"))
	}
	return id, nil
}

func (a *api) incident(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	inc, err := a.o.Store.Incident(r.Context(), id)
	if err != nil {
		a.incidentError(w, err)
		return
	}
	a.annotate(&inc)
	writeJSON(w, inc)
}

// annotate sets what an answer says of an incident beyond what is stored.
func (a *api) annotate(inc *incidents.Incident) {
	inc.CommanderNeeded = inc.NeedsCommander(a.o.Incidents.Severities)
}

// DeclareRequest is the body of POST /api/v1/incidents: an incident
// declared by hand.
type DeclareRequest struct {
	Title    string `json:"title"`
	Summary  string `json:"summary,omitempty"`
	Severity string `json:"severity,omitempty"`
	Service  string `json:"service,omitempty"`
	// Policy is paged; empty takes the service's policy from the
	// catalogue, unless NoPage.
	Policy    string `json:"policy,omitempty"`
	NoPage    bool   `json:"no_page,omitempty"`
	Drill     bool   `json:"drill,omitempty"`
	Commander string `json:"commander,omitempty"`
	By        string `json:"by"`
	Source    string `json:"source,omitempty"`
}

func (a *api) declare(w http.ResponseWriter, r *http.Request) {
	var req DeclareRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.By) == "" {
		writeError(w, http.StatusBadRequest, errors.New(`"by" must name who declares the incident`))
		return
	}
	d := incidents.Declaration{Title: req.Title, Summary: req.Summary, Service: req.Service, Drill: req.Drill,
		Commander: req.Commander, By: actor(req.By, req.Source)}
	if req.Severity != "" {
		sev, err := incidents.ParseSeverity(req.Severity)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("severity: %w", err))
			return
		}
		d.Severity = sev
	}
	if req.Service != "" {
		svc, ok := a.o.Catalog.Get(req.Service)
		if !ok && len(a.o.Catalog.Services) > 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("service: unknown service %q (the catalogue has %s)", req.Service, strings.Join(a.serviceNames(), ", ")))
			return
		}
		d.RunbookURL = svc.Runbook
		if req.Policy == "" {
			req.Policy = svc.Policy
		}
	}
	if req.Policy == "" {
		req.Policy = a.o.OnCallPolicy
	}
	if !req.NoPage {
		d.Policy = req.Policy
	}
	inc, err := incidents.Declare(r.Context(), store.Incidents(a.o.Store), a.o.Incidents, d, a.o.Now())
	if err != nil {
		a.incidentError(w, err)
		return
	}
	a.o.Pipeline.IncidentsChanged()
	a.o.Logger.Info("incident declared", "incident", inc.Ref(), "severity", inc.Severity.String(), "by", req.By, "drill", req.Drill)
	a.annotate(&inc)
	w.Header().Set("Location", fmt.Sprintf("/api/v1/incidents/%d", inc.ID))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(inc)
}

func (a *api) serviceNames() []string {
	var out []string
	for _, s := range a.o.Catalog.Services {
		out = append(out, s.Name)
	}
	return out
}

// ActRequest is the body of an action on an incident; each action reads
// the fields it needs.
type ActRequest struct {
	// By is who acts; Source says through what (cli, console, slack).
	By     string `json:"by"`
	Source string `json:"source,omitempty"`
	// Why is the reason of a mitigate, resolve or reopen.
	Why string `json:"why,omitempty"`
	// Text is the body of an update, a note or a task.
	Text string `json:"text,omitempty"`
	// Public publishes an update on the status page, under Title.
	Public bool   `json:"public,omitempty"`
	Title  string `json:"title,omitempty"`
	// Role and User assign a role ("" user unassigns).
	Role string `json:"role,omitempty"`
	User string `json:"user,omitempty"`
	// Severity is the new severity.
	Severity string `json:"severity,omitempty"`
	// Owner owns a new task.
	Owner string `json:"owner,omitempty"`
	// Into is the incident a merge folds this one into.
	Into int64 `json:"into,omitempty"`
	// Channel is the chat channel a channel action links.
	Channel string `json:"channel,omitempty"`
}

func actor(by, source string) incidents.Actor {
	if source == "" {
		source = "api"
	}
	return incidents.Actor{Name: strings.TrimSpace(by), Source: source}
}

// actions are what POST /api/v1/incidents/{id}/{action} does to an
// incident, returning the pages to queue.
var actions = map[string]func(a *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error){
	"ack": func(a *api, inc *incidents.Incident, _ ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return nil, inc.Acknowledge(a.o.Incidents, by, now)
	},
	"resolve": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return nil, inc.Resolve(by, req.Why, now)
	},
	"mitigate": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return nil, inc.Mitigate(by, req.Why, now)
	},
	"reopen": func(a *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return inc.Reopen(a.o.Incidents, by, req.Why, now)
	},
	"escalate": func(a *api, inc *incidents.Incident, _ ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return inc.EscalateNow(a.o.Incidents, by, now)
	},
	"assign": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		role, err := incidents.ParseRole(req.Role)
		if err != nil {
			return nil, fmt.Errorf("role: %v: %w", err, incidents.ErrInvalid)
		}
		return nil, inc.Assign(role, req.User, by, now)
	},
	"update": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return nil, inc.PostUpdate(req.Text, req.Public, req.Title, by, now)
	},
	"note": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return nil, inc.AddNote(req.Text, by, now)
	},
	"severity": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		sev, err := incidents.ParseSeverity(req.Severity)
		if err != nil {
			return nil, fmt.Errorf("severity: %v: %w", err, incidents.ErrInvalid)
		}
		return nil, inc.SetSeverity(sev, by, now)
	},
	"channel": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		return nil, inc.LinkChannel(strings.TrimSpace(req.Channel), by, now)
	},
	"tasks": func(_ *api, inc *incidents.Incident, req ActRequest, by incidents.Actor, now time.Time) ([]incidents.Page, error) {
		_, err := inc.AddTask(req.Text, req.Owner, by, now)
		return nil, err
	},
}

// act runs one action on an incident: POST /api/v1/incidents/{id}/{action}
// (and …/tasks/{task}/done, and …/merge).
func (a *api) act(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	var req ActRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.By) == "" {
		writeError(w, http.StatusBadRequest, errors.New(`"by" must name who acts`))
		return
	}
	by, now := actor(req.By, req.Source), a.o.Now()
	action := r.PathValue("action")
	var inc incidents.Incident
	switch {
	case r.PathValue("task") != "":
		action = "task done"
		n, perr := strconv.Atoi(r.PathValue("task"))
		if perr != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("bad task number %q", r.PathValue("task")))
			return
		}
		inc, err = incidents.Act(r.Context(), store.Incidents(a.o.Store), id, func(inc *incidents.Incident) ([]incidents.Page, error) {
			return nil, inc.FinishTask(n, by, now)
		})
	case action == "merge":
		if req.Into <= 0 {
			writeError(w, http.StatusBadRequest, errors.New(`"into" must name the incident to merge into`))
			return
		}
		inc, err = incidents.Merge(r.Context(), store.Incidents(a.o.Store), id, req.Into, by, now)
	default:
		f, ok := actions[action]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("unknown incident action %q: want ack, escalate, mitigate, resolve, reopen, assign, update, note, severity, channel, tasks or merge", action))
			return
		}
		inc, err = incidents.Act(r.Context(), store.Incidents(a.o.Store), id, func(inc *incidents.Incident) ([]incidents.Page, error) {
			return f(a, inc, req, by, now)
		})
	}
	if err != nil {
		a.incidentError(w, err)
		return
	}
	a.o.Pipeline.IncidentsChanged()
	a.o.Logger.Info("incident updated", "incident", inc.Ref(), "action", action, "status", inc.Status.String(), "by", req.By)
	a.annotate(&inc)
	writeJSON(w, inc)
}

// incidentError answers a lifecycle error with its status: 404 for an
// unknown incident, 409 for a transition the incident's state forbids,
// 400 for a bad request.
func (a *api) incidentError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, incidents.ErrNotFound):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, incidents.ErrTransition), errors.Is(err, incidents.ErrAcked), errors.Is(err, incidents.ErrResolved):
		writeError(w, http.StatusConflict, err)
	case errors.Is(err, incidents.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
	default:
		writeError(w, http.StatusInternalServerError, err)
	}
}

// decodeBody reads a small JSON body into v, answering 400 if it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad request body: %w", err))
		return false
	}
	return true
}

// SeverityInfo is one severity and its definition.
type SeverityInfo struct {
	Severity incidents.Severity `json:"severity"`
	incidents.Definition
}

func (a *api) severities(w http.ResponseWriter, _ *http.Request) {
	var out []SeverityInfo
	for _, s := range []incidents.Severity{incidents.SEV1, incidents.SEV2, incidents.SEV3, incidents.SEV4} {
		out = append(out, SeverityInfo{s, a.o.Incidents.Severities.Get(s)})
	}
	writeJSON(w, out)
}

// incidentChat lists what the incident's chat channel said:
// GET /api/v1/incidents/{id}/chat[?from=&to=] (RFC 3339 or Unix seconds).
func (a *api) incidentChat(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if _, err := a.o.Store.Incident(r.Context(), id); err != nil {
		a.incidentError(w, err)
		return
	}
	var bounds [2]time.Time
	for i, name := range []string{"from", "to"} {
		if v := r.URL.Query().Get(name); v != "" {
			if bounds[i], err = promTime(v); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("%s: %w", name, err))
				return
			}
		}
	}
	ms, err := a.o.Store.ChatMessages(r.Context(), id, bounds[0], bounds[1])
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, nonNil(ms))
}
