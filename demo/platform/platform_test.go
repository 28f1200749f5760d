package platform

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		in      string
		want    []Fault
		wantErr string
	}{
		{"", nil, ""},
		{"none", nil, ""},
		{"match-collapse@30s+3m:match=0.1,errors=0.12,latency=4", []Fault{{Name: "match-collapse", Start: 30 * time.Second, Duration: 3 * time.Minute, MatchFactor: 0.1, ErrorRatio: 0.12, LatencyFactor: 4}}, ""},
		{"slow@5m:latency=8;down@1m+10s:errors=1", []Fault{
			{Name: "slow", Start: 5 * time.Minute, MatchFactor: 1, LatencyFactor: 8},
			{Name: "down", Start: time.Minute, Duration: 10 * time.Second, MatchFactor: 1, ErrorRatio: 1, LatencyFactor: 1}}, ""},
		{"boom@soon", nil, `start "soon"`},
		{"boom", nil, "NAME@START"},
		{"x@1s+0s", nil, `duration "0s"`},
		{"x@1s:errors=2", nil, "between 0 and 1"},
		{"x@1s:speed=2", nil, `unknown parameter "speed"`},
		{"x@1s:match", nil, `parameter "match"`},
	}
	for _, tc := range tests {
		got, err := ParseFaults(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%q: %+v, %v", tc.in, got, err)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: fault %d = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// scrape reads the platform's /metrics over real HTTP.
func scrape(t *testing.T, p *Platform) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	samples, err := metrics.ParseExposition(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, s := range samples {
		name := s.Labels.Get("__name__")
		if name == "http_requests_total" && strings.HasPrefix(s.Labels.Get("code"), "5") {
			out["errors"] += s.Value
		}
		out[name] += s.Value
	}
	return out
}

// run steps the platform every 500ms from..to and returns the deltas of
// matches/active users and the error ratio over that window.
func window(t *testing.T, p *Platform, from, to time.Duration) (matchesPerUser, errRatio float64) {
	t.Helper()
	p.Step(t0.Add(from))
	a := scrape(t, p)
	for at := from; at <= to; at += 500 * time.Millisecond {
		p.Step(t0.Add(at))
	}
	b := scrape(t, p)
	secs := (to - from).Seconds()
	return (b["matchmaking_matches_total"] - a["matchmaking_matches_total"]) / secs / b["matchmaking_active_users"],
		(b["errors"] - a["errors"]) / (b["http_requests_total"] - a["http_requests_total"])
}

func TestDefaultFaultsBreakAndRecover(t *testing.T) {
	p, err := New(Options{Faults: DefaultFaults(), Seed: 7, LogPath: filepath.Join(t.TempDir(), "mm.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Step(t0)
	before, errBefore := window(t, p, 0, 29*time.Second)
	during, errDuring := window(t, p, 40*time.Second, 70*time.Second)
	after, errAfter := window(t, p, 4*time.Minute, 5*time.Minute)
	if during > 0.5*before {
		t.Errorf("matches per user: before %g, during %g: want a drop of more than 50%%", before, during)
	}
	if errBefore > 0.05 || errDuring < 0.05 || errAfter > 0.05 {
		t.Errorf("error ratio before %g during %g after %g: want it above 5%% only during the fault", errBefore, errDuring, errAfter)
	}
	if after < 0.7*before {
		t.Errorf("matches per user did not recover: before %g after %g", before, after)
	}
	if fs := p.ActiveFaults(t0.Add(time.Minute)); len(fs) != 1 || fs[0].Name != "match-collapse" {
		t.Errorf("active faults at t+1m: %+v", fs)
	}
}

func TestLogsAreDeterministicJSON(t *testing.T) {
	dir := t.TempDir()
	runOnce := func(name string) []byte {
		path := filepath.Join(dir, name)
		p, err := New(Options{Faults: DefaultFaults(), Seed: 42, LogPath: path})
		if err != nil {
			t.Fatal(err)
		}
		for at := time.Duration(0); at <= 60*time.Second; at += 500 * time.Millisecond {
			p.Step(t0.Add(at))
		}
		p.Close()
		b, _ := os.ReadFile(path)
		return b
	}
	a, b := runOnce("a.log"), runOnce("b.log")
	if string(a) != string(b) || len(a) == 0 {
		t.Fatalf("same seed, different logs (%d vs %d bytes)", len(a), len(b))
	}
	levels := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(a)))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		for _, k := range []string{"ts", "level", "service", "msg", "trace_id"} {
			if _, ok := line[k]; !ok {
				t.Fatalf("line lacks %q: %s", k, sc.Text())
			}
		}
		levels[line["level"].(string)]++
	}
	if levels["info"] == 0 || levels["error"] == 0 {
		t.Errorf("levels = %v: want info lines and, during the fault, error lines", levels)
	}
	if !strings.Contains(string(a), "match candidates query timed out") {
		t.Error("the fault's cause is not in the logs")
	}
}

func TestPortInUse(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	addr := strings.TrimSuffix(strings.TrimPrefix(p.MetricsURL(), "http://"), "/metrics")
	if _, err := New(Options{Addr: addr}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v, want one naming %s", err, addr)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	p, _ := New(Options{})
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

// Backfilled history is healthy, and the fault schedule counts from the
// first live step, not from the start of the history.
func TestBackfillThenLive(t *testing.T) {
	p, err := New(Options{Faults: DefaultFaults(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var samples []map[string]float64
	p.Backfill(t0.Add(-10*time.Minute), t0, 30*time.Second, func(time.Time) { samples = append(samples, scrape(t, p)) })
	if len(samples) != 20 {
		t.Fatalf("%d backfill steps, want 20", len(samples))
	}
	first, last := samples[0], samples[len(samples)-1]
	if ratio := (last["errors"] - first["errors"]) / (last["http_requests_total"] - first["http_requests_total"]); ratio > 0.02 {
		t.Errorf("backfilled error ratio %g: history must be healthy", ratio)
	}
	p.Step(t0) // live start
	if fs := p.ActiveFaults(t0.Add(20 * time.Second)); len(fs) != 0 {
		t.Errorf("fault active 20s after the live start: %+v", fs)
	}
	if fs := p.ActiveFaults(t0.Add(40 * time.Second)); len(fs) != 1 {
		t.Errorf("fault not active 40s after the live start")
	}
	_, errDuring := window(t, p, 40*time.Second, 70*time.Second)
	if errDuring < 0.05 {
		t.Errorf("error ratio during the fault %g", errDuring)
	}
}
