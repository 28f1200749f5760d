package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serve sets the collector's target percentage as Prometheus 3 does: 75
// unless the file (over $GOGC) says otherwise; the Go collector on
// /metrics reports what the runtime took.
func TestServeSetsGOGC(t *testing.T) {
	t.Setenv("GOGC", "")
	base, _ := startOncall(t, "", nil)
	if got := metricValue(base+"/metrics", "go_gc_gogc_percent"); got != 75 {
		t.Errorf("default: go_gc_gogc_percent = %v, want 75", got)
	}
	t.Setenv("GOGC", "200")
	base, _ = startOncall(t, "runtime: {gogc: 40}\n", nil)
	if got := metricValue(base+"/metrics", "go_gc_gogc_percent"); got != 40 {
		t.Errorf("runtime.gogc 40 over GOGC=200: go_gc_gogc_percent = %v, want 40", got)
	}
}

// runtime.gomemlimit reaches the runtime: the Go collector on /metrics
// reports the soft limit it took.
func TestServeSetsGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	base, _ := startOncall(t, "runtime: {gomemlimit: 300MiB}\n", nil)
	if got := metricValue(base+"/metrics", "go_gc_gomemlimit_bytes"); got != 300<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want %d", got, 300<<20)
	}
}

// In a container (here a memory cgroup made for the test, as a
// container runtime makes one), serve sets its soft limit to 90% of the
// group's limit by itself.
func TestServeTakesItsCgroupsMemoryLimit(t *testing.T) {
	const limit = 400 << 20
	group := memoryCgroup(t, limit)
	t.Setenv("GOMEMLIMIT", "")
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir: %s\nserver: {listen: %q}\n", filepath.Join(dir, "state"), addr)), 0o600)
	// The shell joins the group, then becomes oncall: it starts inside.
	startProcess(t, dir, "/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" serve --config "$3"`, "sh", group, binary(t), cfg)
	base := "http://" + addr
	eventually(t, 20*time.Second, "oncall serving", func() bool { return readiness(base).Role == "leader" })
	if got, want := metricValue(base+"/metrics", "go_gc_gomemlimit_bytes"), float64(int64(limit*0.9)); got != want {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want %v (90%% of the group's %d)", got, want, limit)
	}
}

// memoryCgroup makes a memory cgroup with limit bytes (v1's memory
// controller or v2's unified hierarchy, whichever this machine mounts)
// and removes it when the test ends. It skips where cgroups cannot be
// made (not root, no memory controller delegated): that is the machine,
// not oncall.
func memoryCgroup(t *testing.T, limit int64) string {
	t.Helper()
	name := fmt.Sprintf("oncall-test-%d", os.Getpid())
	var dir, file string
	switch {
	case fileExists("/sys/fs/cgroup/memory/memory.limit_in_bytes"):
		dir, file = filepath.Join("/sys/fs/cgroup/memory", name), "memory.limit_in_bytes"
	case fileExists("/sys/fs/cgroup/cgroup.subtree_control"):
		if b, _ := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); !strings.Contains(string(b), "memory") {
			t.Skip("cgroup v2 without the memory controller enabled for children")
		}
		dir, file = filepath.Join("/sys/fs/cgroup", name), "memory.max"
	default:
		t.Skip("no cgroup filesystem with a memory controller")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup here: %v", err)
	}
	t.Cleanup(func() {
		// After the processes in it are gone (cleanups run last first).
		for range 50 {
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond) // the killed process leaves the group
		}
		t.Errorf("cgroup %s left behind", dir)
	})
	if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		t.Fatalf("set the group's limit: %v", err)
	}
	return dir
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
