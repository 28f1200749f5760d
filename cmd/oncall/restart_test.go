package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
)

// SIGKILL the server while an incident is open: after a restart the incident,
// its escalation step and the alert states are back, and nobody is paged twice.
func TestServeSurvivesSIGKILL(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE checkout_healthy gauge\ncheckout_healthy{service=\"checkout\"} 0\n")
	}))
	defer target.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`groups:
  - name: checkout
    rules:
      - alert: CheckoutUnhealthy
        expr: checkout_healthy == 0
        labels: {severity: page}
        annotations: {summary: checkout is unhealthy, runbook_url: "https://runbooks/checkout"}
`), 0o600)
	logFile := filepath.Join(dir, "app.log")
	os.WriteFile(logFile, []byte("{\"level\":\"error\",\"msg\":\"checkout failed\"}\nnot structured at all\n"), 0o600)
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`state_dir: %s
server: {listen: %q}
metrics:
  scrape: {interval: 200ms, targets: [{job: checkout, url: %q}]}
alerts:
  rule_files: [rules.yml]
  evaluation_interval: 200ms
  routing:
    route: {receiver: pager, group_by: [service], group_wait: 0s}
    receivers: [{name: pager}]
receivers: [{name: pager, incident: {policy: default}}]
users: [{name: alice}]
schedules: [{name: p, users: [alice], start: 2026-01-05T09:00:00Z}]
policies: [{name: default, steps: [{name: primary on-call, targets: [{schedule: p}], delay: 1h}]}]
logs: {files: [%q]}
`, filepath.Join(dir, "state"), addr, target.URL+"/metrics", logFile)), 0o600)
	pagesLog := filepath.Join(dir, "state", "pages.log")
	base := "http://" + addr

	start := func() *exec.Cmd {
		cmd := exec.Command(binary(t), "serve", "--config", cfgPath, "--log-level", "warn")
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	first := start()
	eventually(t, 30*time.Second, "the first page", func() bool { return countLines(pagesLog) == 1 })
	var before []incidents.Incident
	getJSON(t, base+"/api/v1/incidents", &before)
	var alertsBefore []alerts.Alert
	getJSON(t, base+"/api/v1/alerts", &alertsBefore)
	if len(before) != 1 || len(alertsBefore) != 1 {
		t.Fatalf("before kill: %d incidents, %d alerts", len(before), len(alertsBefore))
	}

	// Tailed logs are served, and unparsed lines are counted on /metrics.
	eventually(t, 10*time.Second, "the log lines counted", func() bool {
		return strings.Contains(get(base+"/metrics"), `oncall_log_lines_total{file="`+logFile+`",outcome="unparsed"} 1`)
	})
	var entries []map[string]any
	getJSON(t, base+"/api/v1/logs", &entries)
	if len(entries) != 2 || entries[0]["message"] != "checkout failed" || entries[1]["message"] != "not structured at all" {
		t.Fatalf("logs: %v", entries)
	}

	// The CLI reads the same server.
	code, out, stderr := run(t, nil, "alerts", "list", "--server", base)
	if code != 0 || !strings.Contains(out, "firing") || !strings.Contains(out, "CheckoutUnhealthy") || !strings.Contains(out, "checkout is unhealthy") {
		t.Fatalf("alerts list: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "query", "checkout_healthy", "--server", base, "-o", "json")
	if code != 0 || !strings.Contains(out, `"service": "checkout"`) || !strings.Contains(out, `"value": 0`) {
		t.Fatalf("query: exit %d\n%s%s", code, out, stderr)
	}

	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	start()
	eventually(t, 30*time.Second, "three evaluation cycles after restart", func() bool {
		return metricValue(base+"/metrics", "oncall_rule_evaluations_total") >= 3
	})

	var after []incidents.Incident
	getJSON(t, base+"/api/v1/incidents", &after)
	if len(after) != 1 || after[0].ID != before[0].ID || after[0].Status != incidents.StatusTriggered ||
		after[0].Escalation.StepName != "primary on-call" || !after[0].Escalation.NextAt.Equal(before[0].Escalation.NextAt) {
		t.Fatalf("incident after restart:\n%+v\nbefore:\n%+v", after, before)
	}
	var alertsAfter []alerts.Alert
	getJSON(t, base+"/api/v1/alerts", &alertsAfter)
	if len(alertsAfter) != 1 || alertsAfter[0].Status.State != alerts.StateFiring || !alertsAfter[0].StartsAt.Equal(alertsBefore[0].StartsAt) {
		t.Fatalf("alerts after restart: %+v, before %+v", alertsAfter, alertsBefore)
	}
	if n := countLines(pagesLog); n != 1 {
		b, _ := os.ReadFile(pagesLog)
		t.Fatalf("%d pages after restart, want 1:\n%s", n, b)
	}
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// ready reports whether url answers 200: Prometheus and Alertmanager
// serve /-/ready with a body and 503 while they still load.
func ready(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// metricValue reads one unlabelled sample from a /metrics page (-1 if absent).
func metricValue(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}
