package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/store"
)

// checklistRoutes are the readiness checklists: their definitions, the
// runs stored per service, and the records people and CI jobs add.
func (a *api) checklistRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/checklists", a.checklists)
	mux.HandleFunc("GET /api/v1/checklists/{name}", a.checklistDef)
	mux.HandleFunc("GET /api/v1/checklists/{name}/runs", a.checklistRuns)
	mux.HandleFunc("POST /api/v1/checklists/{name}/runs", a.addChecklistRun)
	mux.HandleFunc("GET /api/v1/checklists/{name}/records", a.checklistRecords)
	mux.HandleFunc("POST /api/v1/checklists/{name}/results", a.addChecklistRecord(checklist.RecordResult))
	mux.HandleFunc("POST /api/v1/checklists/{name}/attestations", a.addChecklistRecord(checklist.RecordAttestation))
	mux.HandleFunc("POST /api/v1/checklists/{name}/waivers", a.addChecklistRecord(checklist.RecordWaiver))
}

// allChecklists returns the configured checklists.
func (a *api) allChecklists() ([]checklist.Checklist, error) {
	if a.o.Checklists == nil {
		return checklist.Builtin(), nil
	}
	return a.o.Checklists()
}

// findChecklist answers 404 (with the names there are) for an unknown
// checklist.
func (a *api) findChecklist(w http.ResponseWriter, r *http.Request) (checklist.Checklist, bool) {
	all, err := a.allChecklists()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return checklist.Checklist{}, false
	}
	cl, err := checklist.Find(all, r.PathValue("name"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return checklist.Checklist{}, false
	}
	return cl, true
}

func (a *api) checklists(w http.ResponseWriter, _ *http.Request) {
	all, err := a.allChecklists()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, nonNil(all))
}

func (a *api) checklistDef(w http.ResponseWriter, r *http.Request) {
	if cl, ok := a.findChecklist(w, r); ok {
		writeJSON(w, cl)
	}
}

// checklistRuns lists a checklist's runs, newest first: ?service= keeps
// one service's, ?latest=1 the newest run of each service (what the
// console shows), ?limit= bounds them (default 100).
func (a *api) checklistRuns(w http.ResponseWriter, r *http.Request) {
	cl, ok := a.findChecklist(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := store.ChecklistRunFilter{Checklist: cl.Name, Service: q.Get("service"), Limit: intParam(r, "limit", 100)}
	latest := q.Get("latest") != ""
	if latest {
		f.Limit = 0
	}
	runs, err := a.o.Store.ChecklistRuns(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if latest {
		seen := map[string]bool{}
		runs = slices.DeleteFunc(runs, func(run checklist.Run) bool {
			dup := seen[run.Service]
			seen[run.Service] = true
			return dup
		})
	}
	writeJSON(w, nonNil(runs))
}

// addChecklistRun stores a run the CLI made (it ran the probes where the
// services are reachable and evaluated them with this server's records).
func (a *api) addChecklistRun(w http.ResponseWriter, r *http.Request) {
	cl, ok := a.findChecklist(w, r)
	if !ok {
		return
	}
	var run checklist.Run
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&run); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad request body: %w", err))
		return
	}
	if _, err := checklist.Service(a.o.Catalog, run.Service); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := checkRun(cl, run); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	run.ID = 0
	if run.At.IsZero() {
		run.At = a.o.Now().UTC()
	}
	if err := a.o.Store.AddChecklistRun(r.Context(), &run); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeCreated(w, run)
}

// checkRun refuses a run of another checklist, or with results for
// checks the checklist does not have.
func checkRun(cl checklist.Checklist, run checklist.Run) error {
	if run.Checklist != cl.Name {
		return fmt.Errorf("the run is of checklist %q, posted to %q", run.Checklist, cl.Name)
	}
	if run.Outcome != checklist.OutcomePass && run.Outcome != checklist.OutcomeFail && run.Outcome != checklist.OutcomeError {
		return fmt.Errorf("outcome %q: want pass, fail or error", run.Outcome)
	}
	for _, res := range run.Results {
		if _, ok := cl.Check(res.Check); !ok {
			return &checklist.Unknown{What: "check", Name: res.Check, Valid: cl.IDs(), In: "checklist " + cl.Name}
		}
	}
	return nil
}

// checklistRecords lists a checklist's records, oldest first: ?service=,
// ?kind= (attestation, waiver, result) and ?current=1 (only those that
// count now) narrow them.
func (a *api) checklistRecords(w http.ResponseWriter, r *http.Request) {
	cl, ok := a.findChecklist(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := store.ChecklistRecordFilter{Checklist: cl.Name, Service: q.Get("service"), Kind: checklist.RecordKind(q.Get("kind"))}
	if q.Get("current") != "" {
		f.CurrentAt = a.o.Now()
	}
	recs, err := a.o.Store.ChecklistRecords(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, nonNil(recs))
}

// addChecklistRecord records an attestation, a waiver or a pushed result.
// An unknown check or service is refused (400) with the valid ones.
func (a *api) addChecklistRecord(kind checklist.RecordKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cl, ok := a.findChecklist(w, r)
		if !ok {
			return
		}
		var req checklist.Request
		if !decodeBody(w, r, &req) {
			return
		}
		req.Kind = kind
		if req.Source == "" {
			req.Source = "api"
		}
		rec, err := cl.Record(a.o.Catalog, req, a.o.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		if err := a.o.Store.AddChecklistRecord(r.Context(), &rec); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeCreated(w, rec)
	}
}

// writeCreated answers 201 with v as JSON.
func writeCreated(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(v)
}
