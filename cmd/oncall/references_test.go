package main

// Helpers that start the reference tools (a real Prometheus, a real
// Alertmanager) and oncall itself on loopback ports, and a webhook sink
// that records what each of them sends.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/internal/testenv"
	"github.com/oncallhq/oncall/notify/webhook"
)

// hook is one webhook notification as received.
type hook struct {
	Path string
	At   time.Time
	Body payload
}

// payload is Alertmanager's webhook payload, as oncall writes it.
type payload webhook.Payload

// summary renders a notification without its timing: receiver, group,
// status and each alert with its status, fingerprint and labels.
func (p payload) summary() string {
	var as []string
	for _, a := range p.Alerts {
		var kv []string
		for k, v := range a.Labels {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		as = append(as, fmt.Sprintf("%s %s {%s}", a.Status, a.Fingerprint, strings.Join(kv, ",")))
	}
	return fmt.Sprintf("%s %s %s v%s common=%v/%v:\n    %s", p.Receiver, p.GroupKey, p.Status, p.Version, p.CommonLabels, p.CommonAnnotations, strings.Join(as, "\n    "))
}

// sink records webhook posts.
type sink struct {
	*httptest.Server
	mu   sync.Mutex
	got  []hook
	fail int // answer 503 to this many posts first
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p payload
		json.Unmarshal(b, &p)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.fail > 0 {
			s.fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		s.got = append(s.got, hook{Path: r.URL.Path, At: time.Now(), Body: p})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) hooks() []hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hook(nil), s.got...)
}

// startProcess runs a reference tool until the test ends; its output goes
// to a file (DIR/NAME.log) shown if the test fails.
func startProcess(t *testing.T, dir, name string, args ...string) *exec.Cmd {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s output (tail):\n%s", filepath.Base(name), b)
		}
	})
	return cmd
}

// startAlertmanager runs a real Alertmanager 0.25 with config on a free
// port, without clustering, and returns its URL.
func startAlertmanager(t *testing.T, config string) string {
	t.Helper()
	am := testenv.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(config), 0o600)
	addr := freeAddr(t)
	startProcess(t, dir, am, "--config.file=alertmanager.yml", "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	base := "http://" + addr
	eventually(t, 20*time.Second, "Alertmanager ready", func() bool { return ready(base + "/-/ready") })
	return base
}

// startOncall runs `oncall serve` with config (YAML, beside files written
// to the same directory) and returns its URL and the directory.
func startOncall(t *testing.T, config string, files map[string]string, extra ...string) (base, dir string) {
	t.Helper()
	dir = t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf("state_dir: %s\nserver: {listen: %q, token: s3cret}\n", filepath.Join(dir, "state"), addr) + config
	os.WriteFile(filepath.Join(dir, "oncall.yaml"), []byte(cfg), 0o600)
	startProcess(t, dir, binary(t), append([]string{"serve", "--config", filepath.Join(dir, "oncall.yaml"), "--log-level", "debug"}, extra...)...)
	base = "http://" + addr
	eventually(t, 20*time.Second, "oncall serving", func() bool { return readiness(base).Role == "leader" })
	return base, dir
}

// readiness reads /-/ready (zero if the server does not answer yet).
func readiness(base string) health.Report {
	var r health.Report
	json.Unmarshal([]byte(get(base+"/-/ready")), &r)
	return r
}

// post sends JSON with the test token and returns the status code.
func post(t *testing.T, url string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// authGetJSON reads JSON from oncall with the test token.
func authGetJSON(t *testing.T, url string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
