// Package pagerdutytest is a PagerDuty Events API v2 for tests: it checks
// each event as PagerDuty documents (routing key, action, payload fields
// and their limits), answers 202, 400 or an injected failure, and keeps
// alerts by routing key and dedup key with PagerDuty's semantics: a
// trigger opens an alert and notifies, a trigger of an open alert is
// deduplicated, acknowledge and resolve move an open alert on and are
// ignored otherwise. An event to a service the test did not declare is
// unexpected and fails the test at cleanup.
package pagerdutytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Event is one event as PagerDuty receives it.
type Event struct {
	RoutingKey string `json:"routing_key"`
	Action     string `json:"event_action"`
	DedupKey   string `json:"dedup_key"`
	Client     string `json:"client"`
	ClientURL  string `json:"client_url"`
	Payload    *struct {
		Summary   string         `json:"summary"`
		Source    string         `json:"source"`
		Severity  string         `json:"severity"`
		Timestamp string         `json:"timestamp"`
		Component string         `json:"component"`
		Group     string         `json:"group"`
		Class     string         `json:"class"`
		Details   map[string]any `json:"custom_details"`
	} `json:"payload"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
}

// Alert is what PagerDuty keeps of a dedup key on a service.
type Alert struct {
	RoutingKey, DedupKey, Summary string
	// Status is triggered, acknowledged or resolved.
	Status string
	// Events counts the events applied to it, the deduplicated too.
	Events int
}

// Server is the fake Events API.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	services map[string]bool
	alerts   []*Alert
	events   []Event
	invalid  []string
	fail     []int
	// Notified counts the notifications PagerDuty would have sent: one
	// per alert opened.
	notified   int
	unexpected []string
}

// New starts a server that accepts events for the given routing keys,
// and fails t at cleanup if another was sent to.
func New(t testing.TB, routingKeys ...string) *Server {
	s := &Server{services: map[string]bool{}}
	for _, k := range routingKeys {
		s.services[k] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.enqueue))
	t.Cleanup(func() {
		s.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, u := range s.unexpected {
			t.Errorf("pagerdutytest: unexpected event: %s", u)
		}
	})
	return s
}

// FailNext answers the next events with these statuses (429, 500…) in
// turn, before any is looked at.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) enqueue(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		s.unexpected = append(s.unexpected, r.Method+" "+r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		reply(w, code, map[string]string{"status": http.StatusText(code), "message": "injected"})
		return
	}
	var ev Event
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 512<<10)).Decode(&ev); err != nil {
		s.refuse(w, "body: "+err.Error())
		return
	}
	if msg := validate(ev); msg != "" {
		s.refuse(w, msg)
		return
	}
	if !s.services[ev.RoutingKey] {
		s.unexpected = append(s.unexpected, fmt.Sprintf("%s of %q to an undeclared service", ev.Action, ev.DedupKey))
	}
	s.events = append(s.events, ev)
	s.apply(ev)
	reply(w, http.StatusAccepted, map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

func (s *Server) refuse(w http.ResponseWriter, msg string) {
	s.invalid = append(s.invalid, msg)
	reply(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{msg}})
}

// validate checks an event as the Events API v2 documents it.
func validate(ev Event) string {
	switch {
	case len(ev.RoutingKey) != 32:
		return "'routing_key' must be the 32-character integration key"
	case len(ev.DedupKey) > 255:
		return "'dedup_key' is longer than 255 characters"
	}
	switch ev.Action {
	case "trigger":
		p := ev.Payload
		switch {
		case p == nil:
			return "'payload' is missing"
		case p.Summary == "" || len(p.Summary) > 1024:
			return "'payload.summary' must be 1 to 1024 characters"
		case p.Source == "":
			return "'payload.source' is missing"
		case !slices.Contains([]string{"critical", "error", "warning", "info"}, p.Severity):
			return fmt.Sprintf("'payload.severity' %q is not critical, error, warning or info", p.Severity)
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			return "'dedup_key' is required for " + ev.Action
		}
	default:
		return fmt.Sprintf("'event_action' %q is not trigger, acknowledge or resolve", ev.Action)
	}
	return ""
}

func (s *Server) open(key, dedup string) *Alert {
	for _, a := range s.alerts {
		if a.RoutingKey == key && a.DedupKey == dedup && a.Status != "resolved" {
			return a
		}
	}
	return nil
}

func (s *Server) apply(ev Event) {
	a := s.open(ev.RoutingKey, ev.DedupKey)
	switch {
	case ev.Action == "trigger" && a == nil:
		s.alerts = append(s.alerts, &Alert{RoutingKey: ev.RoutingKey, DedupKey: ev.DedupKey, Summary: ev.Payload.Summary, Status: "triggered", Events: 1})
		s.notified++
	case a == nil:
		// Acknowledging or resolving nothing open is accepted and ignored.
	case ev.Action == "trigger":
		a.Events++
	case ev.Action == "acknowledge":
		a.Events++
		if a.Status == "triggered" {
			a.Status = "acknowledged"
		}
	case ev.Action == "resolve":
		a.Events++
		a.Status = "resolved"
	}
}

// Events returns the events accepted, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Alerts returns copies of the alerts, in the order they opened.
func (s *Server) Alerts() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Alert, len(s.alerts))
	for i, a := range s.alerts {
		out[i] = *a
	}
	return out
}

// Notified counts the alerts opened: the notifications a person got.
func (s *Server) Notified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notified
}

// Invalid lists why events were refused.
func (s *Server) Invalid() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.invalid)
}
