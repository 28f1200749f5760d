package health

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRecentAndReport(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	down := errors.New(`query "up" on "http://admin:hunter2@prom:9090": connection refused` + "\nmore")
	tests := []struct {
		c    Check
		ok   bool
		want string
	}{
		{Recent("store", time.Time{}, nil, time.Minute, now), true, "not run yet"},
		{Recent("store", now.Add(-10*time.Second), nil, time.Minute, now), true, "ok 10s ago"},
		{Recent("store", now.Add(-2*time.Minute), nil, time.Minute, now), false, "last succeeded 2m0s ago"},
		{Recent("rules", now.Add(-2*time.Minute), down, time.Minute, now), false, "connection refused …"},
		{Recent("rules", now.Add(-10*time.Second), down, time.Minute, now), true, "ok 10s ago"},
	}
	for _, tc := range tests {
		if tc.c.OK != tc.ok || !strings.Contains(tc.c.Reason, tc.want) {
			t.Errorf("%+v, want ok=%v and %q", tc.c, tc.ok, tc.want)
		}
	}
	r := NewReport("leader", []Check{tests[1].c, tests[3].c})
	if r.Ready || len(r.Failing()) != 1 || strings.Contains(r.Failing()[0], "hunter2") || !strings.Contains(r.Failing()[0], "admin:xxxxx@") {
		t.Errorf("report %+v", r)
	}
	if !NewReport("standby", []Check{tests[0].c}).Ready {
		t.Error("a report of passing checks is ready")
	}
}
