// Package probe holds the probes of the readiness checklist, the part
// that does I/O: the service's HTTPS (redirects, TLS versions, the chain,
// the hostname, expiry, HSTS), the chain from "it is down" to "a person is
// paged" through oncall's own rules, routes and schedules, a sample of
// its logs, its runbook, staging against production, and its drills.
// Each implements checklist.Prober; an unreachable target is an Error
// result, never a failed run.
package probe

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Querier answers PromQL instant queries: the metrics source, or a
// server's query API.
type Querier interface {
	Query(ctx context.Context, expr string, at time.Time) (metrics.Result, error)
}

// severity orders statuses from the worst: a check is as bad as its worst
// link.
var severity = map[checklist.Status]int{checklist.Fail: 0, checklist.Error: 1, checklist.NotReported: 2, checklist.Warn: 3, checklist.NA: 4, checklist.Pass: 5}

// fromLinks makes a result of a chain: its status is the worst link's,
// its summary that link's detail (or ok when every link passes).
func fromLinks(links []checklist.Link, ok string) checklist.Result {
	res := checklist.Result{Status: checklist.Pass, Summary: ok, Links: links}
	worst := -1
	for i, l := range links {
		if l.Status != checklist.Pass && (worst < 0 || severity[l.Status] < severity[links[worst].Status]) {
			worst = i
		}
	}
	if worst >= 0 {
		res.Status = links[worst].Status
		res.Summary = links[worst].Name + ": " + links[worst].Detail
	}
	return res
}

// errorResult is a probe that could not run.
func errorResult(format string, args ...any) checklist.Result {
	return checklist.Result{Status: checklist.Error, Summary: fmt.Sprintf(format, args...)}
}

// floatParam reads a numeric parameter of the check.
func floatParam(c checklist.Check, name string, def float64) (float64, error) {
	s := c.Param(name, "")
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("check %s: params.%s %q is not a number", c.ID, name, s)
	}
	return v, nil
}

// durationParam reads a duration parameter of the check ("14d"; a bare
// number is days).
func durationParam(c checklist.Check, name string, def time.Duration) (time.Duration, error) {
	s := c.Param(name, "")
	if s == "" {
		return def, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := checklist.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("check %s: params.%s %q is not a duration", c.ID, name, s)
	}
	return d, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
