package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With the configuration `oncall serve` runs with, the CLI finds it on
// server.listen (no server.url); a second serve on the same state
// directory says who holds it; queries of every result type print as
// tables.
func TestCLIFindsServeOnItsListenAddress(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+filepath.Join(dir, "state")+"\nserver: {listen: \""+addr+"\", token: tok}\n"), 0o600)
	startProcess(t, dir, binary(t), "serve", "--config", cfg)
	eventually(t, 20*time.Second, "serve answering", func() bool { return strings.Contains(get("http://"+addr+"/-/healthy"), "oncall") })

	code, out, stderr := run(t, nil, "query", "--config", cfg, "count(vector(1) or vector(2))")
	if code != 0 || !strings.Contains(out, "SERIES  VALUE\n{}      1\n") {
		t.Errorf("count(): exit %d:\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "query", "--config", cfg, "--time", "5m", "scalar(vector(7))")
	if code != 0 || out != "SCALAR\n7\n" {
		t.Errorf("scalar at 5m ago: exit %d:\n%q%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "query", "--config", cfg, "vector(2)[1m:30s]")
	if code != 0 || !strings.HasPrefix(out, "SERIES  TIME") || strings.Count(out, "\n") != 3 {
		t.Errorf("range selector: exit %d:\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "query", "--config", cfg, "--range", "2m", "--step", "30s", "vector(3)")
	if code != 0 || strings.Count(out, "  3\n") != 5 {
		t.Errorf("range query: exit %d:\n%s%s", code, out, stderr)
	}
	code, out, _ = run(t, nil, "query", "--config", cfg, "-o", "json", `"text"`)
	if code != 0 || !strings.Contains(out, `"resultType": "string"`) || !strings.Contains(out, `"string": "text"`) {
		t.Errorf("string as json: exit %d:\n%s", code, out)
	}

	// A second serve on the same state directory names the first.
	code, _, stderr = run(t, nil, "serve", "--config", cfg, "--listen", freeAddr(t))
	want := "state directory " + filepath.Join(dir, "state") + " is in use by oncall serve (pid "
	if code == 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "serving http://"+addr) || strings.Contains(stderr, "lockfile") {
		t.Errorf("second serve: exit %d:\n%s", code, stderr)
	}

	// Without a server on server.listen, the CLI says so.
	other := filepath.Join(dir, "other.yaml")
	os.WriteFile(other, []byte("state_dir: "+filepath.Join(dir, "state2")+"\nserver: {listen: \""+freeAddr(t)+"\"}\n"), 0o600)
	code, _, stderr = run(t, nil, "silence", "list", "--config", other)
	if code == 0 || !strings.Contains(stderr, "no oncall answers on server.listen") {
		t.Errorf("no server: exit %d:\n%s", code, stderr)
	}
}
