package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/internal/testenv"
)

// A real Prometheus 2.42 whose alerting config points at oncall delivers
// its firing and resolved alerts, with oncall's token: the webhook receiver
// gets the notifications, and the paging route opens an incident.
func TestPrometheusSendsAlertsToOncall(t *testing.T) {
	prom := testenv.RequireTool(t, "prometheus", "prometheus")
	hooks := newSink(t)
	var healthy atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE checkout_healthy gauge\ncheckout_healthy{service=\"checkout\"} %d\n", healthy.Load())
	}))
	defer target.Close()

	base, _ := startOncall(t, fmt.Sprintf(`
alerts:
  replica_labels: [prometheus_replica]
  routing:
    route:
      receiver: hook
      group_by: [alertname]
      group_wait: 1s
      group_interval: 1s
      routes:
        - matchers: [severity="page"]
          receiver: pager
          continue: true
        - matchers: [severity="page"]
          receiver: hook
    receivers:
      - name: hook
        webhook_configs: [{url: %q, send_resolved: true}]
      - name: pager
receivers: [{name: pager, incident: {policy: default}}]
users: [{name: alice}]
schedules: [{name: p, users: [alice], start: 2026-01-05T09:00:00Z}]
policies: [{name: default, steps: [{name: primary on-call, targets: [{schedule: p}], delay: 1h}]}]
`, hooks.URL+"/hook"), nil)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`groups:
  - name: checkout
    rules:
      - alert: CheckoutUnhealthy
        expr: checkout_healthy == 0
        labels: {severity: page}
        annotations: {summary: checkout is unhealthy}
`), 0o600)
	promAddr := freeAddr(t)
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels: {prometheus_replica: a}
rule_files: [rules.yml]
scrape_configs:
  - job_name: checkout
    static_configs: [{targets: [%q]}]
alerting:
  alertmanagers:
    - api_version: v2
      authorization: {credentials: s3cret}
      static_configs: [{targets: [%q]}]
`, strings.TrimPrefix(target.URL, "http://"), strings.TrimPrefix(base, "http://"))), 0o600)
	startProcess(t, dir, prom, "--config.file=prometheus.yml", "--storage.tsdb.path=data", "--web.listen-address="+promAddr,
		"--rules.alert.resend-delay=1s")

	var as []alerts.Alert
	eventually(t, 60*time.Second, "the alert from Prometheus", func() bool {
		authGetJSON(t, base+"/api/v1/alerts", &as)
		return len(as) == 1 && as[0].Status.State == alerts.StateFiring
	})
	a := as[0]
	if a.Name() != "CheckoutUnhealthy" || a.Labels.Has("prometheus_replica") || !strings.Contains(a.GeneratorURL, "checkout_healthy") {
		t.Errorf("alert: %+v", a)
	}
	eventually(t, 20*time.Second, "the firing notification", func() bool { return len(hooks.hooks()) >= 1 })
	var incs []incidents.Incident
	authGetJSON(t, base+"/api/v1/incidents", &incs)
	if len(incs) != 1 || incs[0].Title != "checkout is unhealthy" || incs[0].Escalation.Paged[0] != "alice" {
		t.Errorf("incidents: %+v", incs)
	}

	healthy.Store(1)
	eventually(t, 60*time.Second, "the resolved notification", func() bool {
		hs := hooks.hooks()
		return len(hs) > 0 && hs[len(hs)-1].Body.Status == "resolved"
	})
	hs := hooks.hooks()
	if hs[0].Body.Status != "firing" || hs[0].Body.Alerts[0].Labels["alertname"] != "CheckoutUnhealthy" {
		t.Errorf("first notification: %s", hs[0].Body.summary())
	}
	firing := 0
	for _, h := range hs {
		if h.Body.Status == "firing" {
			firing++
		}
	}
	if firing != 1 {
		t.Errorf("Prometheus re-sends every second; oncall notified %d times while firing, want once", firing)
	}
	authGetJSON(t, base+"/api/v1/incidents", &incs)
	if len(incs) != 0 {
		t.Errorf("the incident should resolve with its alert: %+v", incs)
	}
}

// A real Alertmanager 0.25 forwards its notifications to oncall through a
// webhook: oncall routes the alerts with its own tree, and resolves them
// when the Alertmanager says so.
func TestAlertmanagerForwardsToOncall(t *testing.T) {
	base, _ := startOncall(t, `
alerts:
  routing:
    route: {receiver: pager, group_by: [service], group_wait: 0s, group_interval: 1s}
    receivers: [{name: pager}]
receivers: [{name: pager, incident: {policy: default}}]
users: [{name: dana}]
policies: [{name: default, steps: [{name: manager, targets: [{user: dana}], delay: 1h}]}]
`, nil)
	am := startAlertmanager(t, fmt.Sprintf(`
route: {receiver: oncall, group_wait: 0s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: oncall
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config: {authorization: {credentials: s3cret}}
`, base+"/api/v1/webhook/alertmanager"))
	now := time.Now().UTC()
	alert := func(endsAt time.Time) []map[string]any {
		return []map[string]any{{"labels": map[string]string{"alertname": "QueueStuck", "service": "billing"},
			"annotations": map[string]string{"summary": "billing queue stuck"}, "startsAt": now, "endsAt": endsAt}}
	}
	if code := post(t, am+"/api/v2/alerts", alert(now.Add(time.Hour))); code != 200 {
		t.Fatalf("post to Alertmanager: %d", code)
	}
	var incs []incidents.Incident
	eventually(t, 30*time.Second, "the incident from the forwarded alert", func() bool {
		authGetJSON(t, base+"/api/v1/incidents", &incs)
		return len(incs) == 1
	})
	if incs[0].Title != "billing queue stuck" || incs[0].Service != "billing" || incs[0].Escalation.Paged[0] != "dana" {
		t.Errorf("incident: %+v", incs[0])
	}
	post(t, am+"/api/v2/alerts", alert(time.Now().UTC()))
	eventually(t, 30*time.Second, "the resolution forwarded", func() bool {
		var as []alerts.Alert
		authGetJSON(t, base+"/api/v1/alerts", &as)
		return len(as) == 1 && as[0].Status.State == alerts.StateResolved
	})
}

// The real amtool (Alertmanager 0.25) reads alerts and manages silences on
// oncall; oncall's own CLI sees the same silences.
func TestAmtoolAgainstOncall(t *testing.T) {
	amtool := testenv.RequireTool(t, "amtool", "prometheus-alertmanager")
	base, dir := startOncall(t, `
alerts:
  routing:
    route: {receiver: team, group_by: [alertname]}
    receivers: [{name: team}]
`, nil)
	os.WriteFile(filepath.Join(dir, "http.yml"), []byte("authorization: {credentials: s3cret}\n"), 0o600)
	am := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(amtool, append([]string{"--alertmanager.url=" + base, "--http.config.file=" + filepath.Join(dir, "http.yml")}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("amtool %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	oncall := func(args ...string) string {
		t.Helper()
		code, out, stderr := run(t, []string{"ONCALL_SERVER_URL=" + base, "ONCALL_SERVER_TOKEN=s3cret"}, args...)
		if code != 0 {
			t.Fatalf("oncall %v: exit %d\n%s%s", args, code, out, stderr)
		}
		return out
	}

	am("alert", "add", "DiskFull", "service=db", "instance=db-1", "--annotation=summary=disk full")
	am("alert", "add", "DiskFull", "service=web", "instance=web-1")
	eventually(t, 10*time.Second, "amtool to list both alerts", func() bool {
		return strings.Count(am("alert", "query"), "DiskFull") == 2
	})
	if out := am("alert", "query", "service=db"); strings.Count(out, "DiskFull") != 1 || !strings.Contains(out, "disk full") {
		t.Errorf("filtered query:\n%s", out)
	}

	id := strings.TrimSpace(am("silence", "add", "service=db", "--comment=db maintenance", "--duration=2h", "--author=ana"))
	if len(id) != 36 {
		t.Fatalf("silence id %q", id)
	}
	out := am("silence", "query")
	if !strings.Contains(out, id) || !strings.Contains(out, `service="db"`) || !strings.Contains(out, "db maintenance") {
		t.Errorf("amtool silence query:\n%s", out)
	}
	if out := oncall("silence", "list"); !strings.Contains(out, id) || !strings.Contains(out, "active") || !strings.Contains(out, "ana") {
		t.Errorf("oncall silence list:\n%s", out)
	}
	eventually(t, 10*time.Second, "the db alert silenced", func() bool {
		return !strings.Contains(am("alert", "query", "-o", "extended"), "db-1") && strings.Contains(am("alert", "query", "--silenced", "-o", "extended"), "db-1")
	})

	// oncall's CLI adds one, amtool sees it and expires it.
	id2 := strings.TrimSpace(oncall("silence", "add", "alertname=DiskFull", "service=~web|api", "--for", "30m", "--comment", "web disks"))
	if out := am("silence", "query", "-o", "extended"); !strings.Contains(out, id2) || !strings.Contains(out, "web disks") {
		t.Errorf("amtool does not see oncall's silence:\n%s", out)
	}
	am("silence", "expire", id2)
	oncall("silence", "expire", id)
	if out := oncall("silence", "list"); strings.Contains(out, id) || strings.Contains(out, id2) {
		t.Errorf("expired silences listed:\n%s", out)
	}
	if out := am("silence", "query", "--expired"); !strings.Contains(out, id) || !strings.Contains(out, id2) {
		t.Errorf("amtool --expired:\n%s", out)
	}
	code, _, stderr := run(t, []string{"ONCALL_SERVER_URL=" + base, "ONCALL_SERVER_TOKEN=s3cret"}, "silence", "expire", "no-such-id")
	if code == 0 || !strings.Contains(stderr, "silence not found") {
		t.Errorf("expiring an unknown silence: exit %d, %s", code, stderr)
	}
}
