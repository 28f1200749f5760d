package config

import (
	"math"
	"strings"
	"testing"
)

// runtime.gogc wins over $GOGC, which wins over Prometheus 3's 75; 0 is
// refused with its line.
func TestRuntimeGOGC(t *testing.T) {
	tests := []struct {
		file, env string
		want      int
	}{
		{"", "", DefaultGOGC},
		{"", "100", 100},
		{"", "off", -1},
		{"", "OFF", -1},
		{"", "lots", DefaultGOGC}, // Go ignores a GOGC it cannot read
		{"runtime: {gogc: 50}\n", "", 50},
		{"runtime: {gogc: 50}\n", "200", 50},
		{"runtime: {gogc: -1}\n", "", -1},
		{"runtime: {}\n", "120", 120},
	}
	for _, tt := range tests {
		cfg, err := Parse("x.yaml", []byte(tt.file))
		if err != nil {
			t.Fatalf("%q: %v", tt.file, err)
		}
		if got := cfg.Runtime.GCPercent(tt.env); got != tt.want {
			t.Errorf("%q with GOGC=%q: %d, want %d", tt.file, tt.env, got, tt.want)
		}
	}
	_, err := Parse("x.yaml", []byte("user: ana\nruntime:\n  gogc: 0\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3: runtime.gogc: 0 would collect") {
		t.Errorf("gogc 0: %v", err)
	}
	if _, err := Parse("x.yaml", []byte("runtime: {gogc: lots}\n")); err == nil || !strings.Contains(err.Error(), "runtime.gogc") {
		t.Errorf("gogc lots: %v", err)
	}
}

// runtime.gomemlimit: auto is 90% of the cgroup's limit, unless
// $GOMEMLIMIT says otherwise and the file says nothing; a size is read as
// Go reads GOMEMLIMIT.
func TestRuntimeGOMEMLIMIT(t *testing.T) {
	const cg = 1000 << 20
	tests := []struct {
		file, env string
		inCgroup  bool
		want      int64
		wantOK    bool
	}{
		{"", "", true, cg * 9 / 10, true},
		{"", "", false, 0, false},
		{"", "2GiB", true, 0, false}, // the runtime already took $GOMEMLIMIT
		{"runtime: {gomemlimit: auto}\n", "2GiB", true, cg * 9 / 10, true},
		{"runtime: {gomemlimit: off}\n", "2GiB", true, math.MaxInt64, true},
		{"runtime: {gomemlimit: 512MiB}\n", "", true, 512 << 20, true},
		{"runtime: {gomemlimit: 512MiB}\n", "2GiB", false, 512 << 20, true},
		{"runtime: {gomemlimit: 1TiB}\n", "", false, 1 << 40, true},
		{"runtime: {gomemlimit: 4096}\n", "", false, 4096, true},
		{"runtime: {gomemlimit: 7B}\n", "", false, 7, true},
	}
	for _, tt := range tests {
		cfg, err := Parse("x.yaml", []byte(tt.file))
		if err != nil {
			t.Fatalf("%q: %v", tt.file, err)
		}
		got, ok := cfg.Runtime.MemoryLimit(tt.env, cg, tt.inCgroup)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%q, GOMEMLIMIT=%q, in a cgroup %v: %d, %v; want %d, %v", tt.file, tt.env, tt.inCgroup, got, ok, tt.want, tt.wantOK)
		}
	}
	for _, bad := range []string{"512M", "1.5GiB", "-1", "+5", "GiB", "lots", "99999999999TiB"} {
		_, err := Parse("x.yaml", []byte("user: ana\nruntime:\n  gomemlimit: "+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), "x.yaml:3: runtime.gomemlimit: not a size") {
			t.Errorf("gomemlimit %s: %v", bad, err)
		}
	}
}
