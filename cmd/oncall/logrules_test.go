package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts"
)

// A log rule counts matching lines into oncall_log_matches_total, and an
// ordinary alerting rule fires on it.
func TestLogRuleFiresAlert(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "payments.log")
	os.WriteFile(logFile, []byte(`{"level":"info","msg":"payment accepted"}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`groups:
  - name: logs
    rules:
      - alert: PaymentDeclines
        expr: oncall_log_matches_total{rule="declines"} >= 3
        labels: {severity: ticket}
        annotations: {summary: "{{ $value }} payments declined"}
`), 0o600)
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: %s
server: {listen: %q}
alerts: {rule_files: [rules.yml], evaluation_interval: 200ms}
logs:
  files: [%q]
  rules: [{name: declines, filter: 'payment declined level>=warn'}]
`, filepath.Join(dir, "state"), addr, logFile)), 0o600)
	cmd := exec.Command(binary(t), "serve", "--config", cfg)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	eventually(t, 10*time.Second, "the server", func() bool { return readiness(base).Role != "" })

	f, _ := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
	for i := range 4 {
		level := "warn"
		if i == 0 {
			level = "info" // does not match level>=warn
		}
		fmt.Fprintf(f, `{"level":%q,"msg":"payment declined by issuer"}`+"\n", level)
	}
	f.Close()
	var firing []alerts.Alert
	eventually(t, 15*time.Second, "PaymentDeclines firing", func() bool {
		var as []alerts.Alert
		getJSON(t, base+"/api/v1/alerts", &as)
		firing = as
		return len(as) == 1 && as[0].Status.State == alerts.StateFiring
	})
	if firing[0].Annotations.Get("summary") != "3 payments declined" {
		t.Errorf("summary = %q", firing[0].Annotations.Get("summary"))
	}
	if m := get(base + "/metrics"); !strings.Contains(m, `oncall_log_matches_total{rule="declines"} 3`) {
		t.Errorf("/metrics lacks the log rule counter")
	}
}
