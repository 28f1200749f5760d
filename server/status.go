package server

import (
	"bytes"
	"net/http"

	"github.com/oncallhq/oncall/statuspage"
	"github.com/oncallhq/oncall/store"
)

// StatusPage configures the public status page.
type StatusPage struct {
	Disabled bool
	statuspage.Options
}

// statusRoutes serve the public status page: no token, and nothing but
// what statuspage publishes.
func (a *api) statusRoutes(mux *http.ServeMux) {
	if a.o.StatusPage.Disabled {
		return
	}
	mux.HandleFunc("GET /status", a.statusHTML)
	mux.HandleFunc("GET /status.json", a.statusJSON)
	mux.HandleFunc("GET /status/feed.atom", a.statusAtom)
}

func (a *api) statusPage(r *http.Request) (statuspage.Page, error) {
	now := a.o.Now()
	days := a.o.StatusPage.HistoryDays
	if days <= 0 {
		days = 90
	}
	// Every incident active at some time in the window: open, or
	// resolved since it began.
	since := now.AddDate(0, 0, -days-1)
	incs, err := a.o.Store.Incidents(r.Context(), store.IncidentFilter{Since: since})
	if err != nil {
		return statuspage.Page{}, err
	}
	opts := a.o.StatusPage.Options
	opts.Key = a.o.Store.Identity()
	return statuspage.Build(a.o.Catalog, incs, now, opts), nil
}

// serveStatus renders the page into a buffer first, so that a failure is
// a clean 503 rather than half a page.
func (a *api) serveStatus(w http.ResponseWriter, r *http.Request, ctype string, render func(*bytes.Buffer, statuspage.Page) error) {
	p, err := a.statusPage(r)
	var buf bytes.Buffer
	if err == nil {
		err = render(&buf, p)
	}
	if err != nil {
		a.o.Logger.Warn("status page", "err", err)
		http.Error(w, "The status page is unavailable right now.", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=30")
	w.Header().Set("Last-Modified", p.Updated.UTC().Format(http.TimeFormat))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Write(buf.Bytes())
}

func (a *api) statusHTML(w http.ResponseWriter, r *http.Request) {
	a.serveStatus(w, r, "text/html; charset=utf-8", func(b *bytes.Buffer, p statuspage.Page) error { return statuspage.WriteHTML(b, p) })
}

func (a *api) statusJSON(w http.ResponseWriter, r *http.Request) {
	a.serveStatus(w, r, "application/json", func(b *bytes.Buffer, p statuspage.Page) error { return statuspage.WriteJSON(b, p) })
}

func (a *api) statusAtom(w http.ResponseWriter, r *http.Request) {
	base := a.o.StatusPage.URL
	a.serveStatus(w, r, "application/atom+xml; charset=utf-8", func(b *bytes.Buffer, p statuspage.Page) error { return statuspage.WriteAtom(b, p, base) })
}
