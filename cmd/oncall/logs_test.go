package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

func writeLog(t *testing.T) (string, time.Time) {
	t.Helper()
	var b strings.Builder
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := 1; i <= 1000; i++ {
		level, msg := "info", "request served"
		if i%10 == 0 {
			level, msg = "error", "payment declined"
		}
		fmt.Fprintf(&b, `{"ts":%q,"level":%q,"service":"api","msg":%q,"status":%d,"duration_ms":%d,"trace_id":"t%d"}`+"\n",
			base.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), level, msg, map[bool]int{true: 502, false: 200}[i%10 == 0], i%900, i)
	}
	b.WriteString("level=warn msg=\"disk almost full\" service=node\nplain text line\n")
	path := filepath.Join(t.TempDir(), "app.log")
	os.WriteFile(path, []byte(b.String()), 0o644)
	return path, base
}

func TestLogsCommand(t *testing.T) {
	path, base := writeLog(t)
	since := base.Add(600 * time.Second).Format(time.RFC3339)
	tests := []struct {
		args []string
		want string // trimmed stdout
	}{
		{[]string{"logs", path, "-e", "payment declined", "-c"}, "100"},
		{[]string{"logs", path, "-e", "level>=warn", "-c"}, "101"},
		{[]string{"logs", path, "-e", "status>=500 duration>800ms", "-c"}, "9"}, // 810, 820, … 890
		{[]string{"logs", path, "-e", "trace=t500"}, `"trace_id":"t500"`},
		{[]string{"logs", path, "-e", "plain", "-o", "json"}, `"message":"plain text line"`},
		{[]string{"logs", path, "-e", "level=error", "--since", since, "-c"}, "41"}, // 600, 610, … 1000
		{[]string{"logs", filepath.Join(filepath.Dir(path), "*.log"), "-e", "disk", "-c"}, "1"},
	}
	for _, tc := range tests {
		code, out, stderr := run(t, nil, tc.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		if tc.want == strings.TrimSpace(out) || (strings.HasPrefix(tc.want, `"`) && strings.Contains(out, tc.want)) {
			continue
		}
		t.Errorf("%v: got %q, want %q", tc.args, strings.TrimSpace(out), tc.want)
	}
	long := filepath.Join(t.TempDir(), "long.log")
	os.WriteFile(long, []byte("short needle\n"+strings.Repeat("x", 5<<20)+" needle\n"), 0o644)
	if code, out, stderr := run(t, nil, "logs", long, "-e", "needle", "-c"); code != 0 || strings.TrimSpace(out) != "1" || !strings.Contains(stderr, "1 lines longer than 1048576 bytes were cut") {
		t.Errorf("long line: exit %d out %q stderr %q", code, out, stderr)
	}
	code, _, stderr := run(t, nil, "logs", path, "-e", "status=>5")
	if code == 0 || !strings.Contains(stderr, `--filter "status=>5": column 1: unknown operator`) {
		t.Errorf("bad filter: exit %d: %s", code, stderr)
	}
}

func TestLogsFollowAcrossRotation(t *testing.T) {
	path, _ := writeLog(t)
	cmd := exec.Command(binary(t), "logs", "-f", path, "-e", "needle")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	appendLine := func(p, s string) {
		f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		f.WriteString(s + "\n")
		f.Close()
	}
	expect := func(want string) {
		t.Helper()
		select {
		case l := <-lines:
			if !strings.Contains(l, want) {
				t.Fatalf("got %q, want %q", l, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no line containing %q", want)
		}
	}
	appendLine(path, `{"level":"info","msg":"needle one"}`)
	expect("needle one")
	os.Rename(path, path+".1")
	appendLine(path, `{"level":"info","msg":"needle two"}`)
	expect("needle two")
}

// --journal runs journalctl -o json; a stand-in journalctl on PATH prints
// the documented export format (the real one needs systemd, absent here).
func TestLogsJournal(t *testing.T) {
	dir := t.TempDir()
	script := `#!/bin/sh
echo "$@" > "` + dir + `/args"
echo '{"__REALTIME_TIMESTAMP":"1795428000123456","PRIORITY":"3","SYSLOG_IDENTIFIER":"matchmaking","MESSAGE":"upstream timed out"}'
echo '{"__REALTIME_TIMESTAMP":"1795428001000000","PRIORITY":"6","SYSLOG_IDENTIFIER":"matchmaking","MESSAGE":"request served"}'
`
	os.WriteFile(filepath.Join(dir, "journalctl"), []byte(script), 0o755)
	path := "PATH=" + dir + ":" + os.Getenv("PATH")
	code, out, stderr := run(t, []string{path}, "logs", "--journal=matchmaking.service", "-e", "level>=error", "-o", "json")
	if code != 0 || !strings.Contains(out, `"message":"upstream timed out"`) || strings.Contains(out, "request served") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if strings.TrimSpace(string(args)) != "-o json --no-pager -u matchmaking.service" {
		t.Errorf("journalctl args = %q", args)
	}
	code, _, stderr = run(t, []string{"PATH=" + t.TempDir()}, "logs", "--journal")
	if code == 0 || !strings.Contains(stderr, "journalctl not found") {
		t.Errorf("without journalctl: exit %d %s", code, stderr)
	}
}

func TestLogsFromLoki(t *testing.T) {
	now := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loki/api/v1/tail" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			ts := strconv.FormatInt(time.Now().UnixNano(), 10)
			wsjson.Write(r.Context(), c, map[string]any{"streams": []any{map[string]any{"stream": map[string]string{"job": "api"}, "values": [][2]string{{ts, `level=error msg="live failure"`}}}}})
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		if r.URL.Query().Get("query") != `{job="api"}` {
			http.Error(w, `{"status":"error","error":"unexpected query"}`, 400)
			return
		}
		ts := strconv.FormatInt(now.Add(-time.Minute).UnixNano(), 10)
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"api"},"values":[[%q,"level=error msg=\"upstream timed out\""],[%q,"level=info msg=ok"]]}]}}`, ts, ts)
	}))
	defer srv.Close()
	code, out, stderr := run(t, nil, "logs", "--loki", srv.URL, "--logql", `{job="api"}`, "-e", "level=error")
	if code != 0 || !strings.Contains(out, "upstream timed out") || strings.Contains(out, "msg=ok") || !strings.Contains(out, "api") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "logs", "--loki", srv.URL, "--logql", `{job="api"}`, "-e", "level=error", "-f")
	if code != 0 || !strings.Contains(out, "upstream timed out") || !strings.Contains(out, "live failure") {
		t.Fatalf("follow: exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = run(t, nil, "logs", "--loki", srv.URL, "--logql", `{job="x"}`)
	if code == 0 || !strings.Contains(stderr, "unexpected query") {
		t.Fatalf("bad query: exit %d %s", code, stderr)
	}
}

// Followed lines print exactly as the history before them did: as
// written.
func TestLogsFollowPrintsLinesAsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	first := `{"ts":"2026-11-23T10:00:00Z","level":"error","msg":"first","trace":"t-1"}`
	second := `{"ts":"2026-11-23T10:00:01Z","level":"error","msg":"second","trace":"t-2"}`
	os.WriteFile(path, []byte(first+"\n"), 0o600)
	cmd := exec.Command(binary(t), "logs", "-f", "-e", "level=error", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil || line != first+"\n" {
		t.Fatalf("history: %q, %v", line, err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"level":"info","msg":"skipped"}` + "\n" + second + "\n")
	f.Close()
	line, err = r.ReadString('\n')
	if err != nil || line != second+"\n" {
		t.Fatalf("followed: %q, %v", line, err)
	}
}
