package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oncallhq/oncall/internal/testenv"
)

// Two oncall serve on one state directory, with an external Prometheus as
// their metrics source (so no TSDB lock keeps the second out), each sent
// the same alert, as an HA Prometheus pair sends to every Alertmanager:
// one runs the pipeline and pages once. Killed, it is replaced at once by
// the other, which carries on the escalation without paging twice.
func TestTwoServersOneStorePageOnce(t *testing.T) {
	prom := testenv.RequireTool(t, "prometheus", "prometheus")
	promDir := t.TempDir()
	os.WriteFile(filepath.Join(promDir, "prometheus.yml"), []byte("global: {scrape_interval: 1m}\n"), 0o600)
	promAddr := freeAddr(t)
	startProcess(t, promDir, prom, "--config.file=prometheus.yml", "--storage.tsdb.path=data", "--web.listen-address="+promAddr)
	eventually(t, 30*time.Second, "Prometheus ready", func() bool { return ready("http://" + promAddr + "/-/ready") })

	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	start := func(name string) (*exec.Cmd, string) {
		addr := freeAddr(t)
		cfg := fmt.Sprintf(`state_dir: %s
server: {listen: %q, token: s3cret}
metrics: {prometheus: {url: "http://%s"}}
alerts:
  routing:
    route: {receiver: pager, group_wait: 0s, group_interval: 1s}
    receivers: [{name: pager}]
receivers: [{name: pager, incident: {policy: default}}]
users: [{name: ana}, {name: ben}]
policies:
  - name: default
    steps:
      - {name: primary, targets: [{user: ana}], delay: 4s}
      - {name: secondary, targets: [{user: ben}], delay: 1h}
`, state, addr, promAddr)
		path := filepath.Join(dir, name+".yaml")
		os.WriteFile(path, []byte(cfg), 0o600)
		cmd := exec.Command(binary(t), "serve", "--config", path, "--log-level", "debug")
		logf, _ := os.Create(filepath.Join(dir, name+".log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logf.Name())
				t.Logf("%s:\n%s", name, b)
			}
		})
		base := "http://" + addr
		eventually(t, 20*time.Second, name+" serving", func() bool { return readiness(base).Role != "" })
		return cmd, base
	}
	a, baseA := start("a")
	_, baseB := start("b")
	role := func(base string) string { return readiness(base).Role }
	if ra, rb := role(baseA), role(baseB); ra != "leader" || rb != "standby" {
		t.Fatalf("roles: a %s, b %s", ra, rb)
	}

	alert := []map[string]any{{"labels": map[string]string{"alertname": "Down", "service": "api"}, "endsAt": time.Now().Add(time.Hour)}}
	for _, base := range []string{baseA, baseB} {
		if code := post(t, base+"/api/v2/alerts", alert); code != 200 {
			t.Fatalf("post to %s: %d", base, code)
		}
	}
	pages := filepath.Join(state, "pages.log")
	eventually(t, 10*time.Second, "the first page", func() bool { return strings.Contains(readFile(pages), `"target":"ana"`) })

	// The leader dies before the ack timeout; the standby takes over at
	// once and escalates on time, without paging ana again.
	a.Process.Signal(syscall.SIGKILL)
	a.Wait()
	eventually(t, 10*time.Second, "b to lead", func() bool { return role(baseB) == "leader" })
	eventually(t, 15*time.Second, "the escalation to ben", func() bool { return strings.Contains(readFile(pages), `"target":"ben"`) })
	// Three more flushes of the group by b: a duplicate would be out by then.
	flushes := metricValue(baseB+"/metrics", "oncall_group_flushes_total")
	eventually(t, 15*time.Second, "three more flushes", func() bool {
		return metricValue(baseB+"/metrics", "oncall_group_flushes_total") >= flushes+3
	})
	log := readFile(pages)
	if n := strings.Count(log, `"target":"ana"`); n != 1 {
		t.Errorf("ana paged %d times:\n%s", n, log)
	}
	if n := strings.Count(log, `"target":"ben"`); n != 1 {
		t.Errorf("ben paged %d times:\n%s", n, log)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
