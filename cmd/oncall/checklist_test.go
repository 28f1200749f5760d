package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// clT0 is the checklist commands' clock in these tests.
var clT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// oncallRun runs the oncall command in-process and returns its exit
// status, stdout and stderr.
func oncallRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = 1
		var ee exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if !errors.Is(err, errSilent) {
			errb.WriteString(err.Error() + "\n")
		}
	}
	return code, out.String(), errb.String()
}

// checklistWorld is a configuration with two services, a custom
// checklist of an attestation, an external check and a probe that cannot
// reach its runbook, and no server: records go to the state directory's
// store.
func checklistWorld(t *testing.T, extra string) string {
	t.Helper()
	old := checklistNow
	checklistNow = func() time.Time { return clT0 }
	t.Cleanup(func() { checklistNow = old })
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	os.MkdirAll(filepath.Join(dir, "checklists"), 0o755)
	os.WriteFile(filepath.Join(dir, "checklists", "launch.yaml"), []byte(`name: launch
title: Launch
tiers: {1: silver}
checks:
  - {id: board, title: On the board, level: bronze, kind: attestation}
  - {id: audit, title: Security audit, level: bronze, kind: external}
  - {id: docs, title: Runbook, level: silver, probe: runbook}
`), 0o644)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte(`server: {listen: "127.0.0.1:1"}
services:
  - {name: mm, tier: 3, runbook: "http://`+closedPort(t)+`/runbook"}
  - {name: search, tier: 1, runbook: "http://`+closedPort(t)+`/runbook"}
checklists:
  dir: checklists
  timeout: 5s
`+extra), 0o600)
	return cfg
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A run exits 1 while a required check fails, 0 once it holds, and 2
// when only a probe that could not run is left; records made with the CLI
// (attest, report, waive) count, and history shows what changed.
func TestChecklistRunAttestAndHistory(t *testing.T) {
	cfg := checklistWorld(t, "")
	code, out, errOut := oncallRun(t, "--config", cfg, "checklist", "launch", "--service", "mm")
	if code != 1 || !strings.Contains(out, "bronze required (default): FAIL") || !strings.Contains(out, "blocking: board (not reported), audit (not reported)") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("progress drawn into a pipe")
	}
	if code, out, errOut = oncallRun(t, "--config", cfg, "--user", "ana", "checklist", "attest", "launch", "board", "--service", "mm", "--justification", "card moved"); code != 0 ||
		!strings.Contains(out, "attested launch / board for mm as ana, until 2027-02-21 (in the store ") {
		t.Fatalf("attest: %d %s%s", code, out, errOut)
	}
	if code, out, errOut = oncallRun(t, "--config", cfg, "checklist", "report", "launch", "audit", "--service", "mm", "--status", "pass", "--url", "https://jira.example.com/SEC-9", "--source", "ci"); code != 0 ||
		!strings.Contains(out, "reported pass for launch / audit for mm") {
		t.Fatalf("report: %d %s%s", code, out, errOut)
	}
	if code, out, _ = oncallRun(t, "--config", cfg, "checklist", "run", "launch", "--service", "mm", "-o", "json"); code != 0 {
		t.Fatalf("after attesting: exit %d\n%s", code, out)
	}
	var run checklist.Run
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Outcome != checklist.OutcomePass || run.Achieved != "bronze" || run.By == "" {
		t.Fatalf("json report: %v %+v", err, run)
	}
	if docs, _ := run.Result("docs"); docs.Status != checklist.Error || docs.Required {
		t.Errorf("the unreachable runbook is an error, not required at bronze: %+v", docs)
	}
	// At silver the runbook is required and could not be fetched: 2.
	if code, out, _ = oncallRun(t, "--config", cfg, "checklist", "launch", "--service", "mm", "--level", "silver", "-o", "junit"); code != 2 {
		t.Fatalf("--level silver: exit %d, want 2\n%s", code, out)
	}
	var suites struct {
		Errors int `xml:"errors,attr"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || suites.Errors != 1 {
		t.Errorf("junit: %v %+v\n%s", err, suites, out)
	}
	// A waiver makes silver pass.
	if code, out, errOut = oncallRun(t, "--config", cfg, "checklist", "waive", "launch", "docs", "--service", "mm", "--reason", "wiki migration", "--expires", "7d"); code != 0 {
		t.Fatalf("waive: %d %s%s", code, out, errOut)
	}
	if code, out, _ = oncallRun(t, "--config", cfg, "checklist", "launch", "--service", "mm", "--level", "silver", "-o", "markdown"); code != 0 || !strings.Contains(out, "🔕 **Runbook**") {
		t.Fatalf("waived: exit %d\n%s", code, out)
	}
	code, out, _ = oncallRun(t, "--config", cfg, "checklist", "history", "--service", "mm")
	for _, want := range []string{"launch     silver    gold      pass", "docs error → waived", "board not reported → pass, audit not reported → pass", "first run",
		"launch     docs   waiver       waived  ", "(in 7d)"} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("history: exit %d", code)
	}
	// The other service's records are its own.
	if code, _, _ = oncallRun(t, "--config", cfg, "checklist", "launch", "--service", "search", "--no-record"); code != 1 {
		t.Errorf("search: exit %d, want 1", code)
	}
	if _, out, _ = oncallRun(t, "--config", cfg, "checklist", "history", "--service", "search", "-o", "json"); !strings.Contains(out, `"runs": []`) && !strings.Contains(out, `"runs": null`) {
		t.Errorf("--no-record stored a run: %s", out)
	}
}

// Bad input is refused with the valid names.
func TestChecklistBadInput(t *testing.T) {
	cfg := checklistWorld(t, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"checklist", "attest", "launch", "boards", "--service", "mm"}, `unknown check "boards" in checklist launch (checks: board, audit, docs)`},
		{[]string{"checklist", "attest", "launch", "board", "--service", "mmm"}, `unknown service "mmm" in the catalogue (services: mm, search)`},
		{[]string{"checklist", "attest", "prod", "enforces-ssl", "--service", "mm"}, "check enforces-ssl is proven by the tls probe, not attested"},
		{[]string{"checklist", "waive", "launch", "board", "--service", "mm", "--expires", "3d"}, "a waiver needs a reason"},
		{[]string{"checklist", "launch"}, "--service: name the service (mm, search)"},
		{[]string{"checklist", "lanch", "--service", "mm"}, `unknown checklist "lanch" (checklists: prod, launch)`},
		{[]string{"checklist", "launch", "--service", "mm", "-o", "yaml"}, `--output "yaml": want text, json, junit, sarif, markdown`},
		{[]string{"checklist", "launch", "--service", "mm", "--level", "platinum"}, `level "platinum": checklist launch has levels bronze, silver, gold`},
		{[]string{"checklist", "explain", "prod", "nope"}, `unknown check "nope" in checklist prod`},
		{[]string{"checklist", "history"}, "--service: name the service"},
		{[]string{"checklist", "report", "launch", "audit", "--service", "mm", "--status", "great"}, `--status: unknown result "great"`},
		{[]string{"checklist", "announce", "launch", "--service", "mm"}, `--check "launch-email": want an external check of launch to record the send as (audit)`},
		{[]string{"checklist", "announce", "prod", "--service", "mm"}, "no SMTP server: set checklists.smtp"},
	} {
		code, out, errOut := oncallRun(t, append([]string{"--config", cfg}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %q), want %q", tc.args, code, errOut, out, tc.want)
		}
	}
	// A malformed checklist file is reported with file, line and field.
	dir := filepath.Dir(cfg)
	os.WriteFile(filepath.Join(dir, "checklists", "broken.yaml"), []byte("name: broken\nchecks:\n  - id: a\n    title: A\n    level: platinum\n"), 0o644)
	code, _, errOut := oncallRun(t, "--config", cfg, "checklist", "list")
	if want := filepath.Join(dir, "checklists", "broken.yaml") + `:5: checks[0].level: "platinum" is not one of the levels`; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("broken file: exit %d %q, want %q", code, errOut, want)
	}
}

// The built-in prod checklist runs against a service with nothing set
// up: every probe reports (the unreachable ones as errors) and the run
// ends; no probe hangs the rest.
func TestChecklistProdRunsToTheEnd(t *testing.T) {
	cfg := checklistWorld(t, "")
	code, out, errOut := oncallRun(t, "--config", cfg, "checklist", "prod", "--service", "search", "-o", "sarif")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || log.Version != "2.1.0" || len(log.Runs[0].Results) != 10 {
		t.Fatalf("sarif: %v\n%s", err, out)
	}
	_, out, _ = oncallRun(t, "--config", cfg, "checklist", "prod", "--service", "search")
	for _, want := range []string{"gold required (tier 1): FAIL", "ERROR   ops-docs", "could not fetch the runbook", "no URL for search: set checklists.services.search.url",
		"no alerting rule covers search being down"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

func TestChecklistListExplainImport(t *testing.T) {
	cfg := checklistWorld(t, "")
	_, out, _ := oncallRun(t, "--config", cfg, "checklist", "list")
	if !strings.Contains(out, "prod    10      bronze < silver < gold  builtin/prod.yaml") || !strings.Contains(out, "launch  3       bronze < silver") {
		t.Errorf("list:\n%s", out)
	}
	_, out, _ = oncallRun(t, "--config", cfg, "checklist", "explain", "prod", "simulated-failures")
	for _, want := range []string{"proven by    drill probe, or attestation", "param        days = 90", "evidence     required", "valid for    180d",
		"attest:  oncall checklist attest prod simulated-failures --service NAME --evidence URL --justification TEXT"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	md := filepath.Join(filepath.Dir(cfg), "Team Readiness.md")
	os.WriteFile(md, []byte("# Team readiness\n\n## Ops\n\n- [ ] Pager set up (gold)\n- [ ] Runbook — with commands\n"), 0o644)
	code, out, errOut := oncallRun(t, "--config", cfg, "checklist", "import", md)
	if code != 0 {
		t.Fatalf("import: %d %s", code, errOut)
	}
	cl, err := checklist.Parse("imported.yaml", []byte(out))
	if err != nil || cl.Name != "team-readiness" || len(cl.Checks) != 2 || cl.Checks[0].Level != "gold" || cl.Checks[1].Rationale != "with commands" {
		t.Errorf("imported: %v %+v\n%s", err, cl, out)
	}
	dst := filepath.Join(filepath.Dir(cfg), "checklists", "team.yaml")
	if code, _, errOut = oncallRun(t, "--config", cfg, "checklist", "import", md, "--name", "team", "--out", dst); code != 0 {
		t.Fatal(errOut)
	}
	if _, out, _ = oncallRun(t, "--config", cfg, "checklist", "list"); !strings.Contains(out, "team ") {
		t.Errorf("the imported file is not listed:\n%s", out)
	}
}

// smtpSink is an SMTP server that accepts every message.
func smtpSink(t *testing.T) (string, func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var got []string
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				c.Write([]byte("220 sink\r\n"))
				var data strings.Builder
				inData := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch up := strings.ToUpper(line); {
					case inData && line == ".\r\n":
						inData = false
						mu.Lock()
						got = append(got, data.String())
						mu.Unlock()
						c.Write([]byte("250 queued\r\n"))
					case inData:
						data.WriteString(line)
					case strings.HasPrefix(up, "DATA"):
						inData = true
						c.Write([]byte("354 go\r\n"))
					case strings.HasPrefix(up, "QUIT"):
						c.Write([]byte("221 bye\r\n"))
						return
					default:
						c.Write([]byte("250 ok\r\n"))
					}
				}
			}()
		}
	}()
	return l.Addr().String(), func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
}

// announce sends the launch email through the configured SMTP server and
// the send proves the launch-email check.
func TestChecklistAnnounce(t *testing.T) {
	addr, got := smtpSink(t)
	cfg := checklistWorld(t, "  smtp: {addr: \""+addr+"\", from: oncall@example.com, to: [engineering@example.com]}\n")
	code, out, errOut := oncallRun(t, "--config", cfg, "checklist", "announce", "prod", "--service", "mm", "--dry-run")
	if code != 0 || !strings.Contains(out, "Subject: [launch] mm is in production") || len(got()) != 0 {
		t.Fatalf("dry run: %d %s%s", code, out, errOut)
	}
	code, out, errOut = oncallRun(t, "--config", cfg, "checklist", "announce", "prod", "--service", "mm")
	if code != 0 || !strings.Contains(out, "sent the launch email of mm to engineering@example.com (Message-ID <") {
		t.Fatalf("announce: %d %s%s", code, out, errOut)
	}
	if m := got(); len(m) != 1 || !strings.Contains(m[0], "mm is live in production.") {
		t.Errorf("delivered: %q", m)
	}
	_, out, _ = oncallRun(t, "--config", cfg, "checklist", "prod", "--service", "mm", "-o", "json")
	var run checklist.Run
	json.Unmarshal([]byte(out), &run)
	if r, _ := run.Result("launch-email"); r.Status != checklist.Pass || !strings.Contains(r.Summary, "reported via smtp") {
		t.Errorf("launch-email after the send: %+v", r)
	}
}

// With a server, records and runs go to it.
func TestChecklistThroughTheServer(t *testing.T) {
	cfgPath := checklistWorld(t, "")
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(server.Handler(server.Options{Store: st, Source: noSeries{}, Now: func() time.Time { return clT0 },
		Catalog: catalog.Catalog{Services: []catalog.Service{{Name: "mm", Tier: 3}, {Name: "search", Tier: 1}}}}))
	defer srv.Close()
	code, out, errOut := oncallRun(t, "--config", cfgPath, "--server", srv.URL, "--user", "ben", "checklist", "attest", "prod", "lifecycle-board", "--service", "mm",
		"--evidence", "https://board.example.com/mm", "-o", "json")
	if code != 0 {
		t.Fatalf("attest through the server: %d %s%s", code, out, errOut)
	}
	recs, err := st.ChecklistRecords(context.Background(), store.ChecklistRecordFilter{Checklist: "prod", Service: "mm"})
	if err != nil || len(recs) != 1 || recs[0].By != "ben" || recs[0].EvidenceURL != "https://board.example.com/mm" {
		t.Fatalf("the server's store: %+v %v", recs, err)
	}
	if code, _, _ = oncallRun(t, "--config", cfgPath, "--server", srv.URL, "checklist", "prod", "--service", "mm"); code != 1 {
		t.Errorf("run through the server: exit %d", code)
	}
	runs, _ := st.ChecklistRuns(context.Background(), store.ChecklistRunFilter{Checklist: "prod", Service: "mm"})
	if len(runs) != 1 {
		t.Fatalf("runs on the server: %d", len(runs))
	}
	if r, _ := runs[0].Result("lifecycle-board"); r.Status != checklist.Pass {
		t.Errorf("the server's attestation counts: %+v", r)
	}
}

// noSeries is a metrics source with no series at all.
type noSeries struct{}

func (noSeries) Instant(context.Context, string, time.Time) (metrics.Vector, error) { return nil, nil }
func (noSeries) Range(context.Context, string, time.Time, time.Time, time.Duration) ([]metrics.Series, error) {
	return nil, nil
}
func (noSeries) Query(_ context.Context, _ string, at time.Time) (metrics.Result, error) {
	return metrics.Result{Type: metrics.TypeVector, T: at}, nil
}

// fixedLogs is a server's log buffer of fixed entries.
type fixedLogs []logs.Entry

func (l fixedLogs) After(uint64, int) []logs.Entry { return l }
func (l fixedLogs) Tail(uint64, int) []logs.Entry  { return l }

// Without logs.files here, the logging probe samples the files the
// server tails, as written, and says so when it cannot read them.
func TestChecklistSamplesTheServersLogFiles(t *testing.T) {
	cfgPath := checklistWorld(t, "")
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logFile := filepath.Join(t.TempDir(), "mm.log")
	var lines strings.Builder
	for i := range 20 {
		fmt.Fprintf(&lines, `{"time":"2026-11-23T09:59:%02dZ","level":"info","service":"mm","msg":"request served","path":"/v1/x","request_id":"r%d"}`+"\n", i, i)
	}
	if err := os.WriteFile(logFile, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	svcs := []catalog.Service{{Name: "mm", Tier: 3, Logs: "service=mm"}, {Name: "search", Tier: 1}}
	for _, tc := range []struct {
		source, want string
	}{
		{logFile, "pass    structured-logging"},
		{"/nonexistent/elsewhere.log", "which this machine cannot read: set logs.files"},
	} {
		srv := httptest.NewServer(server.Handler(server.Options{Store: st, Source: noSeries{}, Now: func() time.Time { return clT0 },
			Logs: fixedLogs{{Seq: 1, Service: "mm", Message: "request served", Source: tc.source}}, Catalog: catalog.Catalog{Services: svcs}}))
		os.WriteFile(cfgPath, []byte(`server: {listen: "127.0.0.1:1"}
services:
  - {name: mm, tier: 3, logs: "service=mm"}
  - {name: search, tier: 1}
`), 0o600)
		_, out, errOut := oncallRun(t, "--config", cfgPath, "--server", srv.URL, "checklist", "prod", "--service", "mm", "--no-record")
		srv.Close()
		if !strings.Contains(out, tc.want) {
			t.Errorf("server tails %s: want %q in\n%s%s", tc.source, tc.want, out, errOut)
		}
	}
}
