package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"

	"github.com/oncallhq/oncall/routing/silence"
)

// matcher is a silence matcher in Alertmanager's API shape.
type matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"`
}

type gettableSilence struct {
	ID        string        `json:"id"`
	Status    silenceStatus `json:"status"`
	UpdatedAt time.Time     `json:"updatedAt"`
	Comment   string        `json:"comment"`
	CreatedBy string        `json:"createdBy"`
	EndsAt    time.Time     `json:"endsAt"`
	Matchers  []matcher     `json:"matchers"`
	StartsAt  time.Time     `json:"startsAt"`
}

type silenceStatus struct {
	State string `json:"state"`
}

type postableSilence struct {
	ID        string    `json:"id"`
	Comment   *string   `json:"comment"`
	CreatedBy *string   `json:"createdBy"`
	StartsAt  *dateTime `json:"startsAt"`
	EndsAt    *dateTime `json:"endsAt"`
	Matchers  []matcher `json:"matchers"`
}

func toGettableSilence(s silence.Silence, now time.Time) gettableSilence {
	out := gettableSilence{ID: s.ID, Status: silenceStatus{string(s.StateAt(now))}, UpdatedAt: s.UpdatedAt, Comment: s.Comment,
		CreatedBy: s.CreatedBy, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Matchers: []matcher{}}
	for _, m := range s.Matchers {
		eq := m.Type == amlabels.MatchEqual || m.Type == amlabels.MatchRegexp
		out.Matchers = append(out.Matchers, matcher{Name: m.Name, Value: m.Value, IsRegex: m.Type == amlabels.MatchRegexp || m.Type == amlabels.MatchNotRegexp, IsEqual: &eq})
	}
	return out
}

var silenceOrder = map[silence.State]int{silence.StateActive: 1, silence.StatePending: 2, silence.StateExpired: 3}

// getSilences lists silences as Alertmanager sorts them: active ones by
// end, then pending by start, then expired, the most recent first.
func (a *api) getSilences(w http.ResponseWriter, r *http.Request) {
	var filter []*amlabels.Matcher
	for _, s := range r.URL.Query()["filter"] {
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			amError(w, http.StatusBadRequest, err.Error())
			return
		}
		filter = append(filter, m)
	}
	all, err := a.o.Store.Silences(r.Context())
	if err != nil {
		amError(w, http.StatusInternalServerError, err.Error())
		return
	}
	now := a.o.Now()
	all = slices.DeleteFunc(all, func(s silence.Silence) bool { return !silenceHas(s, filter) })
	slices.SortStableFunc(all, func(x, y silence.Silence) int {
		sx, sy := x.StateAt(now), y.StateAt(now)
		if sx != sy {
			return silenceOrder[sx] - silenceOrder[sy]
		}
		switch sx {
		case silence.StateActive:
			return x.EndsAt.Compare(y.EndsAt)
		case silence.StatePending:
			return x.StartsAt.Compare(y.StartsAt)
		default:
			return y.EndsAt.Compare(x.EndsAt)
		}
	})
	out := make([]gettableSilence, len(all))
	for i, s := range all {
		out[i] = toGettableSilence(s, now)
	}
	writeJSON(w, out)
}

// silenceHas reports whether the silence has, for every filter matcher, a
// matcher of the same name, type and value (Alertmanager's filter).
func silenceHas(s silence.Silence, filter []*amlabels.Matcher) bool {
	for _, f := range filter {
		if !slices.ContainsFunc(s.Matchers, func(m *amlabels.Matcher) bool {
			return m.Name == f.Name && m.Type == f.Type && m.Value == f.Value
		}) {
			return false
		}
	}
	return true
}

func (a *api) postSilence(w http.ResponseWriter, r *http.Request) {
	var ps postableSilence
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&ps); err != nil {
		schemaError(w, http.StatusBadRequest, http.StatusBadRequest, fmt.Sprintf("parsing silence body from %q failed, because %v", "", err))
		return
	}
	for name, missing := range map[string]bool{"comment": ps.Comment == nil, "createdBy": ps.CreatedBy == nil, "startsAt": ps.StartsAt == nil, "endsAt": ps.EndsAt == nil, "matchers": ps.Matchers == nil} {
		if missing {
			schemaError(w, http.StatusUnprocessableEntity, 602, name+" in body is required")
			return
		}
	}
	if len(ps.Matchers) == 0 {
		schemaError(w, http.StatusUnprocessableEntity, 604, "matchers in body should have at least 1 items")
		return
	}
	sil := silence.Silence{ID: ps.ID, Comment: *ps.Comment, CreatedBy: *ps.CreatedBy, StartsAt: ps.StartsAt.Time, EndsAt: ps.EndsAt.Time}
	for _, m := range ps.Matchers {
		eq := m.IsEqual == nil || *m.IsEqual
		t := amlabels.MatchEqual
		switch {
		case m.IsRegex && eq:
			t = amlabels.MatchRegexp
		case m.IsRegex:
			t = amlabels.MatchNotRegexp
		case !eq:
			t = amlabels.MatchNotEqual
		}
		am, err := amlabels.NewMatcher(t, m.Name, m.Value)
		if err != nil {
			amError(w, http.StatusBadRequest, fmt.Sprintf("failed to convert API silence to internal silence: %v", err))
			return
		}
		sil.Matchers = append(sil.Matchers, am)
	}
	if !sil.StartsAt.Before(sil.EndsAt) {
		amError(w, http.StatusBadRequest, "Failed to create silence: start time must be before end time")
		return
	}
	if sil.EndsAt.Before(a.o.Now()) {
		amError(w, http.StatusBadRequest, "Failed to create silence: end time can't be in the past")
		return
	}
	id, err := silence.New(a.o.Store, a.o.Now).Set(r.Context(), sil)
	switch {
	case errors.Is(err, silence.ErrNotFound):
		amError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		amError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.o.Pipeline.SilencesChanged()
	a.o.Logger.Info("silence set", "id", id, "by", sil.CreatedBy, "matchers", sil.Matchers.String(), "ends", sil.EndsAt)
	writeJSON(w, map[string]string{"silenceID": id})
}

func (a *api) getSilence(w http.ResponseWriter, r *http.Request) {
	s, err := a.o.Store.Silence(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, silence.ErrNotFound):
		w.WriteHeader(http.StatusNotFound) // no body, as Alertmanager

	case err != nil:
		amError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, toGettableSilence(s, a.o.Now()))
	}
}

func (a *api) deleteSilence(w http.ResponseWriter, r *http.Request) {
	err := silence.New(a.o.Store, a.o.Now).Expire(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, silence.ErrNotFound):
		amError(w, http.StatusNotFound, err.Error())
	case err != nil:
		amError(w, http.StatusInternalServerError, err.Error())
	default:
		a.o.Pipeline.SilencesChanged()
		a.o.Logger.Info("silence expired", "id", r.PathValue("id"))
		w.WriteHeader(http.StatusOK)
	}
}
