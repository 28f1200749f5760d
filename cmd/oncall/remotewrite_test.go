package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oncallhq/oncall/internal/testenv"
)

// With metrics from a real Prometheus 2.42 (its remote-write receiver on),
// oncall's recording rules write their series into it, and an alerting
// rule built on a recorded series fires: as Thanos Ruler and Grafana
// record into a remote store.
func TestRecordingRulesRemoteWriteIntoPrometheus(t *testing.T) {
	prom := testenv.RequireTool(t, "prometheus", "prometheus")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE checkout_errors_total counter\ncheckout_errors_total{service=\"checkout\"} 30\n# TYPE checkout_requests_total counter\ncheckout_requests_total{service=\"checkout\"} 100\n")
	}))
	defer target.Close()
	promDir := t.TempDir()
	promAddr := freeAddr(t)
	tu, _ := url.Parse(target.URL)
	os.WriteFile(filepath.Join(promDir, "prometheus.yml"), []byte(fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: checkout
    static_configs: [{targets: [%q]}]
`, tu.Host)), 0o600)
	startProcess(t, promDir, prom, "--config.file=prometheus.yml", "--storage.tsdb.path=data", "--web.listen-address="+promAddr, "--web.enable-remote-write-receiver")
	eventually(t, 20*time.Second, "prometheus ready", func() bool { return ready("http://" + promAddr + "/-/ready") })

	rules := `groups:
  - name: checkout
    interval: 1s
    rules:
      - record: service:errors:ratio
        expr: sum by (service) (checkout_errors_total) / sum by (service) (checkout_requests_total)
      - alert: CheckoutErrors
        expr: service:errors:ratio > 0.2
        labels: {severity: page}
        annotations: {summary: "{{ $value | humanizePercentage }} of checkouts fail"}
`
	base, _ := startOncall(t, fmt.Sprintf(`metrics: {prometheus: {url: "http://%s"}}
alerts:
  rule_files: [rules.yml]
  evaluation_interval: 1s
  remote_write: {url: "http://%s/api/v1/write"}
`, promAddr, promAddr), map[string]string{"rules.yml": rules})

	// The recorded series is in Prometheus, written by oncall.
	eventually(t, 30*time.Second, "the recorded series in Prometheus", func() bool {
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Value  [2]any
				}
			}
		}
		json.Unmarshal([]byte(get("http://"+promAddr+"/api/v1/query?query=service:errors:ratio")), &r)
		return len(r.Data.Result) == 1 && r.Data.Result[0].Metric["service"] == "checkout" && r.Data.Result[0].Value[1] == "0.3"
	})
	// And the alert built on it fires in oncall.
	eventually(t, 30*time.Second, "the alert on the recorded series", func() bool {
		var as []struct {
			Labels      map[string]string
			Annotations map[string]string
			Status      struct{ State string }
		}
		authGetJSON(t, base+"/api/v1/alerts", &as)
		for _, a := range as {
			if a.Labels["alertname"] == "CheckoutErrors" && a.Status.State == "firing" && a.Annotations["summary"] == "30% of checkouts fail" {
				return true
			}
		}
		return false
	})
}
