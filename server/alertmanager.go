package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/secret"
)

// alertmanagerRoutes serves Alertmanager's API v2: what Prometheus posts
// alerts to and what amtool reads and manages silences with.
func (a *api) alertmanagerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v2/alerts", a.postAlerts)
	mux.HandleFunc("GET /api/v2/alerts", a.getAlerts)
	mux.HandleFunc("GET /api/v2/alerts/groups", a.getGroups)
	mux.HandleFunc("GET /api/v2/status", a.getStatus)
	mux.HandleFunc("GET /api/v2/receivers", a.getReceivers)
	mux.HandleFunc("GET /api/v2/silences", a.getSilences)
	mux.HandleFunc("POST /api/v2/silences", a.postSilence)
	mux.HandleFunc("GET /api/v2/silence/{id}", a.getSilence)
	mux.HandleFunc("DELETE /api/v2/silence/{id}", a.deleteSilence)
}

// amError writes an error the way Alertmanager's API does: a JSON string
// for a refused request, {"code", "message"} when the request did not fit
// the API's schema.
func amError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(secret.Redact(msg))
}

func schemaError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg})
}

func (a *api) resolveTimeout() time.Duration { return a.o.Routing.ResolveTimeout }

// postAlerts receives alerts with Alertmanager's semantics: a missing start
// is now, a missing end is now plus resolve_timeout; every valid alert is
// taken, and the invalid ones are reported in a 400.
func (a *api) postAlerts(w http.ResponseWriter, r *http.Request) {
	now := a.o.Now()
	posted, err := decodeAlerts(http.MaxBytesReader(w, r.Body, a.o.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		var se *schemaErr
		switch {
		case errors.As(err, &tooBig):
			schemaError(w, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", a.o.MaxBody))
		case errors.As(err, &se):
			schemaError(w, http.StatusUnprocessableEntity, 602, err.Error())
		default:
			schemaError(w, http.StatusBadRequest, http.StatusBadRequest, fmt.Sprintf("parsing alerts body from %q failed, because %v", "", err))
		}
		return
	}
	valid, invalid := prepare(posted, now, a.resolveTimeout())
	refused := a.o.Pipeline.Put(now, valid)
	switch {
	case len(invalid) > 0:
		amError(w, http.StatusBadRequest, strings.Join(invalid, "; "))
	case refused > 0:
		amError(w, http.StatusTooManyRequests, fmt.Sprintf("%d of %d alerts refused: oncall holds its alerts.max_alerts limit", refused, len(valid)))
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// filters are the query parameters shared by the alert listings.
type filters struct {
	matchers                                 []*amlabels.Matcher
	receiver                                 *regexp.Regexp
	active, silenced, inhibited, unprocessed bool
}

func parseFilters(r *http.Request) (filters, error) {
	q := r.URL.Query()
	f := filters{active: true, silenced: true, inhibited: true, unprocessed: true}
	for _, s := range q["filter"] {
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			return f, err
		}
		f.matchers = append(f.matchers, m)
	}
	if s := q.Get("receiver"); q.Has("receiver") {
		re, err := regexp.Compile("^(?:" + s + ")$")
		if err != nil {
			return f, fmt.Errorf("failed to parse receiver param: %v", err)
		}
		f.receiver = re
	}
	for name, p := range map[string]*bool{"active": &f.active, "silenced": &f.silenced, "inhibited": &f.inhibited, "unprocessed": &f.unprocessed} {
		if q.Has(name) {
			switch q.Get(name) {
			case "true":
				*p = true
			case "false":
				*p = false
			default:
				return f, fmt.Errorf("%s: %q is not a boolean", name, q.Get(name))
			}
		}
	}
	return f, nil
}

// keep applies the filters to an active alert, as Alertmanager does.
func (f filters) keep(al *alerts.Alert) bool {
	st := al.Status
	if !f.active && !st.Suppressed() {
		return false
	}
	if !f.silenced && len(st.SilencedBy) > 0 {
		return false
	}
	if !f.inhibited && len(st.InhibitedBy) > 0 {
		return false
	}
	if f.receiver != nil && !slices.ContainsFunc(st.Receivers, f.receiver.MatchString) {
		return false
	}
	return matchFilter(f.matchers, al.Labels)
}

// matchFilter is Alertmanager's filter matching: a matcher on the empty
// value is about presence.
func matchFilter(ms []*amlabels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		v, present := ls.Get(m.Name), ls.Has(m.Name)
		switch m.Type {
		case amlabels.MatchNotRegexp, amlabels.MatchNotEqual:
			if m.Value == "" && present {
				continue
			}
		default:
			if m.Value == "" && !present {
				continue
			}
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// gettableAlert is an alert in Alertmanager's API shape.
type gettableAlert struct {
	Annotations  map[string]string `json:"annotations"`
	EndsAt       time.Time         `json:"endsAt"`
	Fingerprint  string            `json:"fingerprint"`
	Receivers    []receiver        `json:"receivers"`
	StartsAt     time.Time         `json:"startsAt"`
	Status       alertStatus       `json:"status"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Labels       map[string]string `json:"labels"`
}

type receiver struct {
	Name string `json:"name"`
}

type alertStatus struct {
	InhibitedBy []string `json:"inhibitedBy"`
	SilencedBy  []string `json:"silencedBy"`
	State       string   `json:"state"`
}

func toGettable(al *alerts.Alert) gettableAlert {
	st := alertStatus{InhibitedBy: nonNil(al.Status.InhibitedBy), SilencedBy: nonNil(al.Status.SilencedBy), State: "active"}
	if al.Status.Suppressed() {
		st.State = "suppressed"
	}
	rs := make([]receiver, len(al.Status.Receivers))
	for i, n := range al.Status.Receivers {
		rs[i] = receiver{n}
	}
	return gettableAlert{Annotations: al.Annotations.Map(), EndsAt: al.EndsAt, Fingerprint: alerts.FingerprintString(al.Fingerprint()),
		Receivers: rs, StartsAt: al.StartsAt, Status: st, UpdatedAt: al.UpdatedAt, GeneratorURL: al.GeneratorURL, Labels: al.Labels.Map()}
}

// appendGettable writes what json.Marshal(toGettable(al)) writes, without
// reflection and maps: listings of many alerts are the API's heaviest
// answers.
func appendGettable(b []byte, al *alerts.Alert) []byte {
	b = append(b, `{"annotations":`...)
	b = alerts.AppendLabelsJSON(b, al.Annotations)
	b = append(b, `,"endsAt":`...)
	b = appendTimeJSON(b, al.EndsAt)
	b = append(b, `,"fingerprint":"`...)
	b = append(b, alerts.FingerprintString(al.Fingerprint())...)
	b = append(b, `","receivers":[`...)
	for i, r := range al.Status.Receivers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = alerts.AppendJSONString(b, r)
		b = append(b, '}')
	}
	b = append(b, `],"startsAt":`...)
	b = appendTimeJSON(b, al.StartsAt)
	b = append(b, `,"status":{"inhibitedBy":`...)
	b = appendStrings(b, al.Status.InhibitedBy)
	b = append(b, `,"silencedBy":`...)
	b = appendStrings(b, al.Status.SilencedBy)
	if al.Status.Suppressed() {
		b = append(b, `,"state":"suppressed"},"updatedAt":`...)
	} else {
		b = append(b, `,"state":"active"},"updatedAt":`...)
	}
	b = appendTimeJSON(b, al.UpdatedAt)
	if al.GeneratorURL != "" {
		b = append(b, `,"generatorURL":`...)
		b = alerts.AppendJSONString(b, al.GeneratorURL)
	}
	b = append(b, `,"labels":`...)
	b = alerts.AppendLabelsJSON(b, al.Labels)
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = alerts.AppendJSONString(b, s)
	}
	return append(b, ']')
}

func appendTimeJSON(b []byte, t time.Time) []byte {
	tb, _ := t.MarshalJSON()
	return append(b, tb...)
}

func (a *api) getAlerts(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilters(r)
	if err != nil {
		amError(w, http.StatusBadRequest, err.Error())
		return
	}
	as, err := a.o.Pipeline.Alerts(r.Context(), a.o.Now())
	if err != nil {
		amError(w, http.StatusInternalServerError, err.Error())
		return
	}
	type keyed struct {
		fp string
		al *alerts.Alert
	}
	var kept []keyed
	for i := range as {
		if as[i].Status.State == alerts.StateFiring && f.keep(&as[i]) {
			kept = append(kept, keyed{alerts.FingerprintString(as[i].Fingerprint()), &as[i]})
		}
	}
	slices.SortFunc(kept, func(x, y keyed) int { return strings.Compare(x.fp, y.fp) })
	b := make([]byte, 0, 300*len(kept)+3)
	b = append(b, '[')
	for i, k := range kept {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendGettable(b, k.al)
	}
	b = append(b, ']', '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

type alertGroup struct {
	Alerts   []gettableAlert   `json:"alerts"`
	Labels   map[string]string `json:"labels"`
	Receiver receiver          `json:"receiver"`
}

func (a *api) getGroups(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilters(r)
	if err != nil {
		amError(w, http.StatusBadRequest, err.Error())
		return
	}
	gs, err := a.o.Pipeline.Groups(r.Context(), a.o.Now())
	if err != nil {
		amError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []alertGroup{}
	for _, g := range gs {
		if f.receiver != nil && !f.receiver.MatchString(g.Receiver) {
			continue
		}
		ag := alertGroup{Labels: g.Labels.Map(), Receiver: receiver{g.Receiver}, Alerts: []gettableAlert{}}
		fr := f
		fr.receiver = nil
		for i := range g.Alerts {
			if g.Alerts[i].Status.State == alerts.StateFiring && fr.keep(&g.Alerts[i]) {
				ag.Alerts = append(ag.Alerts, toGettable(&g.Alerts[i]))
			}
		}
		if len(ag.Alerts) > 0 {
			out = append(out, ag)
		}
	}
	writeJSON(w, out)
}

// AlertmanagerAPIVersion is the Alertmanager whose API v2 oncall serves;
// /api/v2/status reports it as the version, so amtool of that version
// talks to oncall without a warning.
const AlertmanagerAPIVersion = "0.25.0"

func (a *api) getStatus(w http.ResponseWriter, _ *http.Request) {
	status := "disabled"
	writeJSON(w, map[string]any{
		"cluster": map[string]any{"status": status, "peers": []any{}},
		"versionInfo": map[string]string{"version": AlertmanagerAPIVersion, "revision": "oncall", "branch": "oncall", "buildUser": "oncall",
			"buildDate": "", "goVersion": runtime.Version()},
		"config": map[string]string{"original": a.o.Routing.AM.String()},
		"uptime": a.started.UTC().Format(time.RFC3339Nano),
	})
}

func (a *api) getReceivers(w http.ResponseWriter, _ *http.Request) {
	out := []receiver{}
	for _, n := range a.o.Routing.ReceiverNames() {
		out = append(out, receiver{n})
	}
	writeJSON(w, out)
}
