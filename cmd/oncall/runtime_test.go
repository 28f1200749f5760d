package main

import (
	"testing"
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
