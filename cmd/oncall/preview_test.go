package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const previewRules = `groups:
  - name: checkout
    rules:
      - alert: CheckoutErrors
        expr: sum by (service) (checkout_errors_ratio) > 0.05
        for: 5m
        labels: {severity: page}
        annotations:
          summary: "{{ $value | humanizePercentage }} of checkouts fail on {{ $labels.service }}"
          description: "Players cannot pay; revenue stops."
          runbook_url: https://runbooks.example.com/checkout
      - alert: Bare
        expr: up == 0
`

const previewConfig = `
alerts:
  rule_files: [rules.yml]
  routing:
    route:
      receiver: tickets
      routes:
        - matchers: [severity="page"]
          receiver: pager
          group_by: [service]
          continue: true
        - matchers: [severity="page"]
          receiver: tickets
    receivers:
      - name: pager
      - name: tickets
        webhook_configs: [{url: "https://hooks.example.com/x"}]
        slack_configs: [{api_url: "https://hooks.slack.com/services/T/B/C", channel: "#checkout"}]
receivers: [{name: pager, incident: {policy: checkout}, console: true}]
users: [{name: ana}]
schedules: [{name: days, users: [ana], start: 2026-01-05T09:00:00Z}]
policies: [{name: checkout, steps: [{name: primary on-call, targets: [{schedule: days}], delay: 5m}]}]
services: [{name: checkout, team: payments, runbook: "https://runbooks.example.com/checkout", dashboard: "https://grafana.example.com/d/checkout"}]
`

// `oncall alerts preview` evaluates the rule against the live metrics
// (through a running server) and shows what each receiver would get: the
// page with the numbers, since when, the runbook and the query link; the
// console line; the webhook payload; and which integrations oncall does
// not deliver. Offline, an example result stands in.
func TestAlertPreview(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE checkout_errors_ratio gauge\ncheckout_errors_ratio{service=\"checkout\",pod=\"a\"} 0.07\ncheckout_errors_ratio{service=\"checkout\",pod=\"b\"} 0.05\n")
	}))
	defer target.Close()
	config := fmt.Sprintf("metrics: {scrape: {interval: 1s, targets: [{job: shop, url: %q}]}}\n", target.URL+"/metrics") + previewConfig
	base, dir := startOncall(t, config, map[string]string{"rules.yml": previewRules})
	cfg := filepath.Join(dir, "oncall.yaml")
	eventually(t, 20*time.Second, "scraped", func() bool {
		var r struct{ Data struct{ Result []any } }
		authGetJSON(t, base+"/api/v1/query?query=checkout_errors_ratio", &r)
		return len(r.Data.Result) == 2
	})
	code, out, stderr := run(t, []string{"TZ=UTC"}, "alerts", "preview", "CheckoutErrors", "--config", cfg)
	if code != 0 {
		t.Fatalf("preview: %d %s", code, stderr)
	}
	for _, want := range []string{
		"CheckoutErrors (" + filepath.Join(dir, "rules.yml") + ":4)",
		"summary      12% of checkouts fail on checkout",
		"at 3 a.m.: what is wrong, what to do, where to look and whose it is are all there",
		"→ receiver pager", "opens SEV2: 12% of checkouts fail on checkout", "page to ana (step 1, primary on-call)",
		"[INC-0] 12% of checkouts fail on checkout", "Players cannot pay; revenue stops.", "Firing since ", "Runbook: https://runbooks.example.com/checkout",
		"Query: http://", "FIRING pager", "→ receiver tickets", "webhook 0", `"status": "firing"`, "slack 0", "sent by Alertmanager's own slack notifier",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "no series answers now") {
		t.Errorf("the live value was not used:\n%s", out)
	}
	// Offline, with -o json: an example, and what a bare rule lacks.
	code, out, stderr = run(t, nil, "alerts", "preview", "Bare", "--offline", "-o", "json", "--config", cfg)
	var p preview
	if code != 0 || json.Unmarshal([]byte(out), &p) != nil {
		t.Fatalf("preview -o json: %d %s %s", code, out, stderr)
	}
	if !p.Example || strings.Join(p.Missing, ",") != "annotation summary,annotation description,annotation runbook_url,label severity,label service" {
		t.Errorf("bare rule: example=%v missing=%q", p.Example, p.Missing)
	}
	if len(p.Routes) != 1 || p.Routes[0].Receiver != "tickets" {
		t.Errorf("routes %+v", p.Routes)
	}
	if code, _, stderr := run(t, nil, "alerts", "preview", "Nope", "--config", cfg); code == 0 || !strings.Contains(stderr, `no alerting rule "Nope" in alerts.rule_files (alerts: Bare, CheckoutErrors)`) {
		t.Errorf("unknown alert: %d %s", code, stderr)
	}
}
