package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Secrets never leave: a server configured with a password in its
// Prometheus URL, a bearer token, an API token and a token in a webhook
// URL, run until its Prometheus goes away and its webhook refuses, writes
// none of them to its log, its pages file, its API answers, its health
// reports or its metrics, nor does the CLI print them.
func TestSecretsNeverLeave(t *testing.T) {
	const (
		password = "hunter2-SECRET"
		bearer   = "bearer-SECRET-456"
		token    = "api-SECRET-123"
		hookTok  = "hook-SECRET-789"
	)
	var down atomic.Bool
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if down.Load() || user != "admin" || pass != password {
			http.Error(w, "refused", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1700000000,"0"]}]}}`)
	}))
	defer prom.Close()
	promURL := strings.Replace(prom.URL, "http://", "http://admin:"+password+"@", 1)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rules.yml"), []byte("groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        labels: {severity: page}\n"), 0o600)
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`state_dir: %s
server: {listen: %q, token: %s}
metrics: {prometheus: {url: %q, bearer_token: %s}}
alerts:
  rule_files: [rules.yml]
  evaluation_interval: 200ms
  routing:
    route: {receiver: hook, group_wait: 0s, group_interval: 1s}
    receivers: [{name: hook, webhook_configs: [{url: "http://127.0.0.1:1/hook?token=%s"}]}]
receivers: [{name: hook, incident: {policy: p}, console: true}]
users: [{name: ana}]
policies: [{name: p, steps: [{name: primary, targets: [{user: ana}], delay: 1h}]}]
`, filepath.Join(dir, "state"), addr, token, promURL, bearer, hookTok)
	os.WriteFile(filepath.Join(dir, "oncall.yaml"), []byte(cfg), 0o600)
	startProcess(t, dir, binary(t), "serve", "--config", filepath.Join(dir, "oncall.yaml"), "--log-level", "debug")
	base := "http://" + addr
	eventually(t, 20*time.Second, "oncall serving", func() bool { return readiness(base).Role == "leader" })
	eventually(t, 20*time.Second, "the webhook refusing", func() bool {
		return strings.Contains(get(base+"/metrics"), `oncall_outbox_deliveries_total{result="retrying"}`)
	})
	eventually(t, 20*time.Second, "the page", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "state", "pages.log"))
		return strings.Contains(string(b), `"target":"ana"`)
	})
	down.Store(true)
	eventually(t, 20*time.Second, "readiness to notice Prometheus is gone", func() bool { return !readiness(base).Ready })

	authed := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		fmt.Fprint(&b, resp.Status)
		buf := make([]byte, 1<<20)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return b.String()
	}
	outputs := map[string]string{
		"/-/ready":           get(base + "/-/ready"),
		"/healthz":           get(base + "/healthz"),
		"/metrics":           get(base + "/metrics"),
		"/api/v1/alerts":     authed("/api/v1/alerts"),
		"/api/v1/query (up)": authed("/api/v1/query?expr=up"),
		"/api/v2/status":     authed("/api/v2/status"),
		"/api/v1/pages":      authed("/api/v1/pages"),
		"/api/v1/incidents":  authed("/api/v1/incidents"),
		"/api/v1/rules":      authed("/api/v1/rules"),
		"/api/v1/who":        authed("/api/v1/who"),
		"/api/v1/stream":     authed("/api/v1/stream"),
		"/api/v2/receivers":  authed("/api/v2/receivers"),
		"/api/v2/alerts":     authed("/api/v2/alerts"),
		"/api/v2/silences":   authed("/api/v2/silences"),
		"/status.json":       get(base + "/status.json"),
	}
	env := []string{"ONCALL_SERVER_URL=" + base, "ONCALL_SERVER_TOKEN=" + token}
	_, out, errOut := run(t, env, "query", "up")
	outputs["oncall query"] = out + errOut
	_, out, errOut = run(t, env, "alerts", "list")
	outputs["oncall alerts list"] = out + errOut
	_, out, errOut = run(t, []string{"ONCALL_METRICS_PROMETHEUS_URL=" + promURL}, "query", "up")
	outputs["oncall query against Prometheus"] = out + errOut
	_, out, errOut = run(t, env, "config", "show", "--config", filepath.Join(dir, "oncall.yaml"))
	outputs["oncall config show"] = out + errOut
	_, out, errOut = run(t, env, "incident", "list", "--config", filepath.Join(dir, "oncall.yaml"))
	outputs["oncall incident list"] = out + errOut
	for name, path := range map[string]string{"serve's log": filepath.Join(dir, filepath.Base(binary(t))+".log"), "pages.log": filepath.Join(dir, "state", "pages.log")} {
		b, _ := os.ReadFile(path)
		outputs[name] = string(b)
	}
	if !strings.Contains(outputs["pages.log"], `"target":"ana"`) || !strings.Contains(outputs["/api/v1/stream"], "event: state") {
		t.Errorf("the run paged nobody or streamed nothing: the check would prove nothing:\npages.log: %.300s\nstream: %.300s", outputs["pages.log"], outputs["/api/v1/stream"])
	}
	if !strings.Contains(outputs["serve's log"], "xxxxx") {
		t.Errorf("the log should show where secrets were masked:\n%s", outputs["serve's log"])
	}
	for name, text := range outputs {
		for _, s := range []string{password, bearer, token, hookTok} {
			if strings.Contains(text, s) {
				i := strings.Index(text, s)
				t.Errorf("%s leaks %q: …%s…", name, s, text[max(0, i-80):min(len(text), i+40)])
			}
		}
	}
}

// The state directory and the TSDB in it are private to their owner,
// even when the directory existed with looser modes.
func TestStateIsPrivate(t *testing.T) {
	_, dir := startOncall(t, "", nil)
	for path, want := range map[string]os.FileMode{filepath.Join(dir, "state"): 0o700, filepath.Join(dir, "state", "tsdb"): 0o700, filepath.Join(dir, "state", "oncall.db"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
	loose := filepath.Join(t.TempDir(), "state")
	os.MkdirAll(loose, 0o755)
	cfg := filepath.Join(t.TempDir(), "oncall.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+loose+"\nserver: {listen: \""+freeAddr(t)+"\"}\n"), 0o600)
	startProcess(t, filepath.Dir(cfg), binary(t), "serve", "--config", cfg)
	eventually(t, 20*time.Second, "the state directory tightened", func() bool {
		fi, err := os.Stat(loose)
		return err == nil && fi.Mode().Perm() == 0o700
	})
}
