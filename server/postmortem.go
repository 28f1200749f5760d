package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/postmortem/storedata"
)

// postmortemRoutes serve what postmortems and the weekly review read
// beyond the rest of the API: the incidents and the pages of a range of
// time, and the pages of one incident.
func (a *api) postmortemRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/postmortem/incidents", a.postmortemIncidents)
	mux.HandleFunc("GET /api/v1/postmortem/pages", a.postmortemPages)
}

// postmortemRange reads the required from and to, at most a year apart.
func postmortemRange(r *http.Request, missing string) (time.Time, time.Time, error) {
	if r.URL.Query().Get("from") == "" || r.URL.Query().Get("to") == "" {
		return time.Time{}, time.Time{}, errors.New(missing)
	}
	return span(r, time.Time{}, 0)
}

// postmortemIncidents answers GET /api/v1/postmortem/incidents?from=&to=:
// the incidents active at some time in [from, to), newest first.
func (a *api) postmortemIncidents(w http.ResponseWriter, r *http.Request) {
	from, to, err := postmortemRange(r, "from and to are required (RFC 3339 or Unix seconds)")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	out, err := storedata.Reader{Store: a.o.Store}.IncidentsBetween(r.Context(), from, to)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	for i := range out {
		a.annotate(&out[i])
	}
	writeJSON(w, nonNil(out))
}

// postmortemPages answers GET /api/v1/postmortem/pages?incident=ID, the
// pages of one incident, or ?from=&to=, the pages created in [from, to);
// oldest first, with their delivery.
func (a *api) postmortemPages(w http.ResponseWriter, r *http.Request) {
	rd := storedata.Reader{Store: a.o.Store}
	var out []incidents.Page
	var err error
	if v := r.URL.Query().Get("incident"); v != "" {
		id, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || id <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("incident: %q is not an incident number", v))
			return
		}
		if out, err = rd.IncidentPages(r.Context(), id); err != nil {
			a.incidentError(w, err)
			return
		}
		writeJSON(w, nonNil(out))
		return
	}
	from, to, err := postmortemRange(r, "give incident, or from and to (RFC 3339 or Unix seconds)")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if out, err = rd.Pages(r.Context(), from, to); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, nonNil(out))
}
