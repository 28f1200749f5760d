package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/internal/testenv"
	"github.com/oncallhq/oncall/statuspage"
)

// The public status page as a visitor sees it in a real browser while
// an incident is run with the real CLI against `oncall serve`: nothing
// while the incident is internal; a partial outage of Checkout under
// its public title once a public update is posted; internal updates and
// notes never; "monitoring" once mitigated; and after it is resolved,
// all operational again with the incident among the past ones. The JSON
// and the Atom feed say the same, without a token.
func TestStatusPageInHeadlessChromium(t *testing.T) {
	chromium := testenv.RequireTool(t, "chromium", "chromium")
	const (
		user          = "robin-responder"
		service       = "chk-payments-svc"
		internalTitle = "Primary DB failover on pg-main-7 INTERNAL-title-xq7"
		summary       = "Replica lag INTERNAL-summary-k2"
		internalNote  = "INTERNAL-note-z9: rolled back build 4.2.1 on pod checkout-7f9c"
		internalUpd   = "INTERNAL-update-m4: shard 12 customers impacted"
		mitigateWhy   = "INTERNAL-why-w3 feature flag off"
		resolveWhy    = "INTERNAL-resolve-r8 root cause fixed"
		publicTitle   = "Checkout errors"
		firstUpdate   = "We are investigating failed payments at checkout."
		secondUpdate  = "A fix has been deployed; we are monitoring the results."
	)
	base, dir := startOncall(t, fmt.Sprintf(`user: %s
users: [{name: alice}, {name: %[1]s}]
schedules: [{name: primary, users: [alice], start: 2026-01-05T09:00:00Z}]
policies: [{name: default, steps: [{name: primary on-call, targets: [{schedule: primary}], delay: 1h}]}]
oncall_policy: default
services:
  - {name: %s, team: team-payments, tier: 1, policy: default, runbook: "https://runbooks.example.com/%[2]s", public_name: Checkout}
  - {name: search-svc, policy: default, public_name: Search}
  - {name: ledger-batch, policy: default}
status_page: {title: Example status}
`, user, service), nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	oncall := func(args ...string) string {
		t.Helper()
		code, out, stderr := run(t, nil, append(args, "--config", cfg)...)
		if code != 0 {
			t.Fatalf("oncall %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
		}
		return out
	}
	var id int64
	forbidden := func() []string {
		return []string{"INTERNAL", internalTitle, "pg-main-7", "checkout-7f9c", user, "alice", service, "team-payments", "runbooks.example.com",
			"ledger-batch", "search-svc", "SEV2", incidents.Ref(id), "triggered", "mitigated", "primary on-call"}
	}
	// look loads the page in Chromium and checks what every visit must
	// show: the title, both components, and nothing internal.
	look := func(stage string) visit {
		t.Helper()
		v := readVisit(t, dumpDOM(t, chromium, base+"/status"))
		if v.title != "Example status" || v.heading != "Example status" {
			t.Errorf("%s: title %q, heading %q", stage, v.title, v.heading)
		}
		if len(v.components) != 2 || v.components[0].name != "Checkout" || v.components[1].name != "Search" {
			t.Fatalf("%s: components %+v", stage, v.components)
		}
		if v.components[1].state != "Operational" || v.components[1].class != "operational" || slices.ContainsFunc(v.components[1].days, func(d string) bool { return d != "operational" }) {
			t.Errorf("%s: Search is %+v", stage, v.components[1])
		}
		for _, s := range forbidden() {
			if i := strings.Index(strings.ToLower(v.dom), strings.ToLower(s)); i >= 0 {
				t.Errorf("%s: the page shows %q: …%s…", stage, s, v.dom[max(0, i-80):min(len(v.dom), i+80)])
			}
		}
		return v
	}

	v := look("before any incident")
	if v.banner != "All systems operational" || v.bannerClass != "operational" || len(v.active)+len(v.past) != 0 ||
		v.components[0].state != "Operational" || !strings.Contains(v.text, "No incidents in the last 90 days.") {
		t.Errorf("before any incident: %+v", v)
	}
	if len(v.components[0].days) != 90 || slices.ContainsFunc(v.components[0].days, func(d string) bool { return d != "operational" }) {
		t.Errorf("history: %v", v.components[0].days)
	}

	// Declared, without a public update: not published.
	var inc incidents.Incident
	if err := json.Unmarshal([]byte(oncall("incident", "declare", internalTitle, "--sev", "2", "--service", service, "--no-page", "--summary", summary, "-o", "json")), &inc); err != nil {
		t.Fatal(err)
	}
	id = inc.ID
	if id == 0 || inc.Severity != incidents.SEV2 || inc.Service != service || inc.DeclaredBy != user {
		t.Fatalf("declared: %+v", inc)
	}
	v = look("declared")
	if v.banner != "All systems operational" || v.bannerClass != "operational" || len(v.active) != 0 || v.components[0].state != "Operational" {
		t.Errorf("declared, nothing public: %+v", v)
	}

	// The first public update publishes it, under its public title.
	ref := fmt.Sprint(id)
	oncall("incident", "update", ref, firstUpdate, "--public", "--title", publicTitle)
	v = look("public update")
	if v.banner != "Partial outage" || v.bannerClass != "partial_outage" {
		t.Errorf("public update: banner %q (%s)", v.banner, v.bannerClass)
	}
	if c := v.components[0]; c.state != "Partial outage" || c.class != "partial_outage" || c.days[len(c.days)-1] != "partial_outage" {
		t.Errorf("public update: Checkout %+v", c)
	}
	if len(v.active) != 1 || len(v.past) != 0 || v.active[0].title != publicTitle || !strings.HasPrefix(v.active[0].meta, "Investigating · Partial outage · Checkout · since ") ||
		len(v.active[0].updates) != 1 || !strings.HasPrefix(v.active[0].updates[0], "investigating — "+firstUpdate) {
		t.Errorf("public update: incidents %+v, past %+v", v.active, v.past)
	}
	checkJSONAndFeed(t, base, "public update", forbidden(), func(p statuspage.Page) bool {
		return p.Status == statuspage.PartialOutage && len(p.Active) == 1 && len(p.Past) == 0 && p.Active[0].Title == publicTitle &&
			p.Components[0].State == statuspage.PartialOutage && len(p.Active[0].Updates) == 1 && p.Active[0].Updates[0].Text == firstUpdate
	}, publicTitle, firstUpdate)

	// An internal update and a note are never shown.
	oncall("incident", "update", ref, internalUpd)
	oncall("incident", "note", ref, internalNote)
	v = look("internal update and note")
	if v.banner != "Partial outage" || len(v.active) != 1 || len(v.active[0].updates) != 1 {
		t.Errorf("internal update and note: %+v", v)
	}

	// Mitigated: monitoring, and the component is operational again.
	oncall("incident", "mitigate", ref, "--why", mitigateWhy)
	oncall("incident", "update", ref, secondUpdate, "--public")
	v = look("mitigated")
	if v.banner != "All systems operational; we are monitoring a recent incident" || v.bannerClass != "operational" || v.components[0].state != "Operational" {
		t.Errorf("mitigated: banner %q, Checkout %+v", v.banner, v.components[0])
	}
	if len(v.active) != 1 || v.active[0].title != publicTitle || !strings.HasPrefix(v.active[0].meta, "Monitoring · ") || len(v.active[0].updates) != 2 ||
		!strings.HasPrefix(v.active[0].updates[0], "monitoring — "+secondUpdate) || !strings.HasPrefix(v.active[0].updates[1], "investigating — "+firstUpdate) {
		t.Errorf("mitigated: %+v", v.active)
	}

	// Resolved: all operational, the incident is a past one, and the day
	// it happened shows the outage.
	oncall("incident", "resolve", ref, "--why", resolveWhy)
	v = look("resolved")
	if v.banner != "All systems operational" || v.bannerClass != "operational" || len(v.active) != 0 || strings.Contains(v.text, "Active incidents") {
		t.Errorf("resolved: banner %q, active %+v", v.banner, v.active)
	}
	if c := v.components[0]; c.state != "Operational" || c.class != "operational" || !slices.Contains(c.days, "partial_outage") {
		t.Errorf("resolved: Checkout %+v", c)
	}
	if len(v.past) != 1 || v.past[0].title != publicTitle || !strings.HasPrefix(v.past[0].meta, "Resolved ") || !strings.HasSuffix(v.past[0].meta, " · Partial outage · Checkout") ||
		len(v.past[0].updates) != 2 {
		t.Errorf("resolved: past %+v", v.past)
	}
	checkJSONAndFeed(t, base, "resolved", forbidden(), func(p statuspage.Page) bool {
		return p.Status == statuspage.Operational && p.Summary == "All systems operational" && len(p.Active) == 0 && len(p.Past) == 1 &&
			p.Past[0].Title == publicTitle && p.Past[0].Status == "resolved" && p.Past[0].Impact == statuspage.PartialOutage &&
			slices.Equal(p.Past[0].Components, []string{"Checkout"}) && len(p.Past[0].Updates) == 2 &&
			p.Past[0].Updates[0].Text == secondUpdate && p.Past[0].Updates[1].Text == firstUpdate && !p.Past[0].Resolved.IsZero()
	}, publicTitle, firstUpdate, secondUpdate)

	// The page is public; the API is not.
	if resp, err := http.Get(base + "/api/v1/incidents"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API without a token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// checkJSONAndFeed reads /status.json and /status/feed.atom without a
// token: ok must hold of the page, the feed must be Atom with an entry
// titled title whose content has every text, and neither may show a
// forbidden string.
func checkJSONAndFeed(t *testing.T, base, stage string, forbidden []string, ok func(statuspage.Page) bool, title string, texts ...string) {
	t.Helper()
	fetch := func(path, ctype string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) || resp.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("%s: GET %s: %s %q %q\n%s", stage, path, resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"), b)
		}
		for _, s := range forbidden {
			if strings.Contains(strings.ToLower(string(b)), strings.ToLower(s)) {
				t.Errorf("%s: %s shows %q:\n%s", stage, path, s, b)
			}
		}
		return string(b)
	}
	body := fetch("/status.json", "application/json")
	var p statuspage.Page
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("%s: /status.json: %v\n%s", stage, err, body)
	}
	if len(p.Components) != 2 || p.Components[0].Name != "Checkout" || p.Components[1].Name != "Search" || p.Components[1].State != statuspage.Operational ||
		p.Title != "Example status" || p.HistoryDays != 90 || len(p.Components[0].Days) != 90 || !ok(p) {
		t.Errorf("%s: /status.json:\n%s", stage, body)
	}

	feed := fetch("/status/feed.atom", "application/atom+xml")
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Title   string   `xml:"title"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Entries []struct {
			Title   string `xml:"title"`
			ID      string `xml:"id"`
			Updated string `xml:"updated"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	dec := xml.NewDecoder(strings.NewReader(feed))
	dec.Strict = true
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: the feed is not XML: %v\n%s", stage, err, feed)
	}
	_, uerr := time.Parse(time.RFC3339, f.Updated)
	if f.Title != "Example status" || f.ID != "urn:oncall:status" || uerr != nil || len(f.Entries) != 1 {
		t.Fatalf("%s: feed:\n%s", stage, feed)
	}
	e := f.Entries[0]
	if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.Title != title || !strings.HasPrefix(e.ID, "urn:oncall:status:incident:") {
		t.Errorf("%s: feed entry %+v", stage, e)
	}
	for _, s := range texts {
		if !strings.Contains(e.Content, s) {
			t.Errorf("%s: feed entry lacks %q: %q", stage, s, e.Content)
		}
	}
}

// dumpDOM loads url in a headless Chromium with a fresh profile and
// returns the DOM it rendered.
func dumpDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(home, "profile"),
		"--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	// Chromium's helpers run in its process group: a timeout ends them all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind, if any
	}
	if err != nil || ctx.Err() != nil || !strings.Contains(stdout.String(), "</html>") {
		b := stderr.Bytes()
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Fatalf("chromium --dump-dom %s: %v (%v)\nstdout:\n%s\nstderr (tail):\n%s", url, err, ctx.Err(), stdout.String(), b)
	}
	return stdout.String()
}

// visit is what a visitor of the status page sees.
type visit struct {
	dom, text           string
	title, heading      string
	banner, bannerClass string
	components          []visitComponent
	active, past        []visitIncident
}

type visitComponent struct {
	name, state, class string
	days               []string // each day's class, oldest first
}

type visitIncident struct {
	title, meta string
	updates     []string
}

// readVisit reads the rendered DOM.
func readVisit(t *testing.T, dom string) visit {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("the DOM does not parse: %v\n%s", err, dom)
	}
	v := visit{dom: dom, text: domText(doc), title: domText(domFind(doc, domElement("title"))), heading: domText(domFind(doc, domElement("h1")))}
	banner := domFind(doc, func(n *html.Node) bool { return domAttr(n, "id") == "overall" })
	if banner == nil {
		t.Fatalf("no banner in\n%s", dom)
	}
	v.banner, v.bannerClass = domText(banner), strings.TrimSpace(strings.TrimPrefix(domAttr(banner, "class"), "banner"))
	for _, li := range domFindAll(domFind(doc, domClass("components")), domElement("li")) {
		st := domFind(li, domClass("state"))
		c := visitComponent{name: domText(domFind(li, domClass("name"))), state: domText(st), class: strings.TrimSpace(strings.TrimPrefix(domAttr(st, "class"), "state"))}
		for _, d := range domFindAll(domFind(li, domClass("days")), domElement("span")) {
			c.days = append(c.days, domAttr(d, "class"))
		}
		v.components = append(v.components, c)
	}
	// Incidents belong to the section whose heading comes before them.
	section := ""
	for n := domFind(doc, domElement("body")).FirstChild; n != nil; n = n.NextSibling {
		switch {
		case n.Type == html.ElementNode && n.Data == "h2":
			section = domText(n)
		case n.Type == html.ElementNode && n.Data == "article":
			inc := visitIncident{title: domText(domFind(n, domElement("h3"))), meta: domText(domFind(n, domClass("meta")))}
			for _, u := range domFindAll(n, domClass("update")) {
				inc.updates = append(inc.updates, domText(u))
			}
			switch section {
			case "Active incidents":
				v.active = append(v.active, inc)
			case "Past incidents":
				v.past = append(v.past, inc)
			default:
				t.Errorf("an incident under %q: %+v", section, inc)
			}
		}
	}
	return v
}

func domWalk(n *html.Node, f func(*html.Node)) {
	if n == nil {
		return
	}
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		domWalk(c, f)
	}
}

func domFindAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	domWalk(n, func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
	})
	return out
}

func domFind(n *html.Node, match func(*html.Node) bool) *html.Node {
	if all := domFindAll(n, match); len(all) > 0 {
		return all[0]
	}
	return nil
}

func domAttr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func domElement(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == name }
}

func domClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Type == html.ElementNode && slices.Contains(strings.Fields(domAttr(n, "class")), class)
	}
}

// domText is the visible text of n, spaces collapsed.
func domText(n *html.Node) string {
	var b strings.Builder
	domWalk(n, func(n *html.Node) {
		if n.Type == html.TextNode && (n.Parent == nil || n.Parent.Data != "style") {
			b.WriteString(n.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}
