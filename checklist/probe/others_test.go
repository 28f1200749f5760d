package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/incidents"
)

func check(id string) checklist.Check {
	c, _ := checklist.Builtin()[0].Check(id)
	return c
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// docs is a real wiki: runbooks in Markdown and HTML, pages that exist
// and pages that do not, one that refuses HEAD.
func docs(t *testing.T) *httptest.Server {
	t.Helper()
	dead := closedAddr(t)
	pages := map[string]string{
		"/runbooks/mm.md": "# Matchmaking\n\nSee [the dashboard](/dash) and [design](./design.md \"Design\"); a link in a command is not a link:\n\n" +
			"```bash\ncurl -s http://127.0.0.1:1/healthz # [x](https://example.invalid.test/x)\n```\n\n```console\n$ kubectl -n mm rollout restart deploy/mm\n```\n\n```python\nprint('not a command')\n```\n\n" +
			"```sh {name=drain}\nmm drain --all\n```\n\n[Top](#top) · [mail](mailto:mm@example.com) · [headless](/no-head)\n",
		"/runbooks/dead.md":   fmt.Sprintf("# Dead links\n\n[gone](/gone) and [down](http://%s/x) and [ok](/dash)\n\n```sh\nmm restart\n```\n", dead),
		"/runbooks/prose.md":  "# Prose\n\nCheck the logs and restart it.\n\n```\nno language: not marked as a command\n```\n",
		"/runbooks/mm.html":   `<html><a href="/dash">dash</a><pre><code class="language-shell">mm restart</code></pre></html>`,
		"/dash":               "dashboard",
		"/runbooks/design.md": "design",
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/no-head" {
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			w.Write([]byte("only GET"))
			return
		}
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(p))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestRunbookProbe(t *testing.T) {
	s := docs(t)
	for _, tc := range []struct {
		name, runbook string
		status        checklist.Status
		link, detail  string
	}{
		{"commands and live links", s.URL + "/runbooks/mm.md", checklist.Pass, "commands", "3 code blocks marked as commands"},
		{"every link resolves", s.URL + "/runbooks/mm.md", checklist.Pass, "links", "all 3 links resolve"},
		{"HTML", s.URL + "/runbooks/mm.html", checklist.Pass, "commands", "1 code block marked as commands"},
		{"dead links", s.URL + "/runbooks/dead.md", checklist.Fail, "links", "2 of 3 links do not resolve: " + s.URL + "/gone (404)"},
		{"no commands", s.URL + "/runbooks/prose.md", checklist.Fail, "commands", "0 code blocks marked as commands, want 1"},
		{"no such runbook", s.URL + "/runbooks/nope.md", checklist.Fail, "exists", "answers 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Runbook{}.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "mm", Runbook: tc.runbook}, Check: check("ops-docs"), Now: t0})
			if res.Status != tc.status {
				t.Errorf("status %s, want %s: %s %+v", res.Status, tc.status, res.Summary, res.Links)
			}
			if l := links(res)[tc.link]; !strings.Contains(l.Detail, tc.detail) {
				t.Errorf("%s: %q, want %q", tc.link, l.Detail, tc.detail)
			}
		})
	}
	res := Runbook{}.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "mm"}, Check: check("ops-docs")})
	if res.Status != checklist.Fail || !strings.Contains(res.Summary, "mm has no runbook in the catalogue") {
		t.Errorf("no runbook: %+v", res)
	}
	res = Runbook{}.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "mm", Runbook: "http://" + closedAddr(t) + "/rb"}, Check: check("ops-docs")})
	if res.Status != checklist.Error || !strings.Contains(res.Summary, "could not fetch the runbook") {
		t.Errorf("unreachable: %+v", res)
	}
}

func TestCommandBlocks(t *testing.T) {
	for src, want := range map[string]int{
		"```bash\nx\n```\n":                      1,
		"```shell-session\n$ x\n```\n":           1,
		"~~~ sh\nx\n~~~\n":                       1,
		"```\nx\n```\n```go\ny\n```\n":           0,
		"````md\n```bash\nnested\n```\n````\n":   0,
		"```{.bash}\nx\n```\n":                   1,
		"```text { name=run-me }\nx\n```\n":      1,
		"```bash\nunclosed":                      1,
		"```\n```bash\n```\n":                    0, // a fence with an info string does not close a block
		"text with ```bash inline``` no fence\n": 0,
	} {
		if got := commandBlocks(src); got != want {
			t.Errorf("%q: %d blocks, want %d", src, got, want)
		}
	}
}

func TestStagingProbe(t *testing.T) {
	build := func(env, version string) labels.Labels {
		return labels.FromStrings("__name__", "build_info", "service", "mm", "env", env, "version", version, "instance", env+"-"+version)
	}
	same := embedded(t, build("production", "1.4.0"), build("staging", "1.4.0"))
	differ := embedded(t, build("production", "1.3.9"), build("staging", "1.4.0"))
	rollout := embedded(t, build("production", "1.3.9"), build("production", "1.4.0"), build("staging", "1.4.0"))
	noStaging := embedded(t, build("production", "1.4.0"))
	versions := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/prod":
			w.Write([]byte(`{"version": "2.0.1", "built": "2026-11-20"}`))
		case "/staging":
			w.Write([]byte("2.0.1\n"))
		case "/old":
			w.Write([]byte("1.9.0"))
		default:
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	defer versions.Close()
	ep := func(prod, staging string) checklist.Endpoints {
		return checklist.Endpoints{Versions: map[string]string{"production": versions.URL + prod, "staging": versions.URL + staging}}
	}
	for _, tc := range []struct {
		name   string
		p      Staging
		ep     checklist.Endpoints
		status checklist.Status
		want   string
	}{
		{"same build", Staging{Query: same}, checklist.Endpoints{}, checklist.Pass, "staging and production both run 1.4.0"},
		{"staging ahead", Staging{Query: differ}, checklist.Endpoints{}, checklist.Fail, "staging runs 1.4.0, production runs 1.3.9"},
		{"a rollout", Staging{Query: rollout}, checklist.Endpoints{}, checklist.Warn, "a rollout in progress?"},
		{"no staging", Staging{Query: noStaging}, checklist.Endpoints{}, checklist.Fail, "no staging version of mm"},
		{"version endpoints agree", Staging{}, ep("/prod", "/staging"), checklist.Pass, "both run 2.0.1"},
		{"version endpoints differ", Staging{}, ep("/prod", "/old"), checklist.Fail, "staging runs 1.9.0, production runs 2.0.1"},
		{"a broken endpoint", Staging{}, ep("/prod", "/broken"), checklist.Error, "answers 500"},
		{"one endpoint for both", Staging{}, ep("/prod", "/prod"), checklist.Fail, "the production and staging version endpoints of mm are the same URL"},
		{"nothing to ask", Staging{}, checklist.Endpoints{}, checklist.Error, "no metrics source and no version endpoints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.p.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "mm"}, Endpoints: tc.ep, Check: check("staging-parity"), Now: t0})
			if res.Status != tc.status || !strings.Contains(res.Summary, tc.want) {
				t.Errorf("%s %q, want %s %q", res.Status, res.Summary, tc.status, tc.want)
			}
		})
	}
}

type incidentList []incidents.Incident

func (l incidentList) IncidentsSince(_ context.Context, since time.Time) ([]incidents.Incident, error) {
	if l == nil {
		return nil, errors.New("store closed")
	}
	var out []incidents.Incident
	for _, inc := range l {
		if !inc.OpenedAt.Before(since) || inc.Open() {
			out = append(out, inc)
		}
	}
	return out, nil
}

func TestDrillProbe(t *testing.T) {
	drills := incidentList{
		{ID: 3, Title: "failover rehearsal", Service: "mm", Drill: true, DeclaredBy: "ana", OpenedAt: t0.Add(-40 * day), Status: incidents.StatusResolved},
		{ID: 5, Title: "real outage", Service: "mm", OpenedAt: t0.Add(-2 * day), Status: incidents.StatusResolved},
		{ID: 6, Title: "search drill", Service: "search", Drill: true, OpenedAt: t0.Add(-day), Status: incidents.StatusResolved},
		{ID: 2, Title: "old drill", Service: "mm", Drill: true, OpenedAt: t0.Add(-200 * day), Status: incidents.StatusResolved},
	}
	for _, tc := range []struct {
		name    string
		list    IncidentLister
		service string
		params  map[string]string
		status  checklist.Status
		want    string
	}{
		{"a recent drill", drills, "mm", nil, checklist.Pass, `INC-3 "failover rehearsal", a drill declared by ana on 2026-10-14 (40 days ago)`},
		{"too long ago", drills, "mm", map[string]string{"days": "30"}, checklist.Fail, "no drill for mm in the last 30 days"},
		{"another service's drill", drills, "payments", nil, checklist.Fail, "no drill for payments in the last 90 days"},
		{"the store fails", incidentList(nil), "mm", nil, checklist.Error, "could not list incidents: store closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := check("simulated-failures")
			if tc.params != nil {
				c.Params = tc.params
			}
			res := Drill{Incidents: tc.list}.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: tc.service}, Check: c, Now: t0})
			if res.Status != tc.status || !strings.Contains(res.Summary, tc.want) {
				t.Errorf("%s %q, want %s %q", res.Status, res.Summary, tc.status, tc.want)
			}
		})
	}
}
