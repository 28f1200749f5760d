package probe

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
)

func loggingCheck(params map[string]string) checklist.Check {
	c, _ := checklist.Builtin()[0].Check("structured-logging")
	if params != nil {
		c.Params = params
	}
	return c
}

// A sample of real log files, selected with the service's log selector:
// JSON, logfmt and plain text, lines without level, request lines
// without ids, and a service that moved to JSON lately.
func TestLoggingProbe(t *testing.T) {
	file := func(name string) FileLogs {
		return FileLogs{Patterns: []string{filepath.Join("testdata", "logs", name)}}
	}
	for _, tc := range []struct {
		name     string
		logs     LogSampler
		selector string
		params   map[string]string
		status   checklist.Status
		links    [3]checklist.Status // structured, keys, request ids
		detail   string
	}{
		{"JSON with request ids", file("json.log"), "service=matchmaking", nil, checklist.Pass,
			[3]checklist.Status{checklist.Pass, checklist.Pass, checklist.Pass}, "3 of 3 request lines (100%) carry a request, trace or transaction id"},
		{"logfmt without request ids", file("logfmt.log"), "service=matchmaking", nil, checklist.Fail,
			[3]checklist.Status{checklist.Pass, checklist.Pass, checklist.Fail}, "1 of 4 request lines (25%) carry"},
		{"plain text", file("plain.log"), "matchmaking", nil, checklist.Fail,
			[3]checklist.Status{checklist.Fail, checklist.NotReported, checklist.Warn}, "0 of 4 lines (0%) are JSON (0) or logfmt (0); want 90%"},
		{"no level", file("nolevel.log"), "service=matchmaking", nil, checklist.Fail,
			[3]checklist.Status{checklist.Pass, checklist.Fail, checklist.Warn}, "time missing on 1, level missing on 2, message missing on 1"},
		{"structured lately", file("migrated.log"), "matchmaking", map[string]string{"sample": "2"}, checklist.Warn,
			[3]checklist.Status{checklist.Pass, checklist.Pass, checklist.Warn}, "2 of 2 lines (100%)"},
		{"structured lately, sampled further back", file("migrated.log"), "matchmaking", map[string]string{"threshold": "0.5"}, checklist.Fail,
			[3]checklist.Status{checklist.Fail, checklist.Pass, checklist.Warn}, "2 of 5 lines (40%) are JSON (2) or logfmt (0); want 50%"},
		{"several files", FileLogs{Patterns: []string{filepath.Join("testdata", "logs", "json.log"), filepath.Join("testdata", "logs", "logfmt.log")}}, "service=matchmaking", nil, checklist.Fail,
			[3]checklist.Status{checklist.Pass, checklist.Pass, checklist.Fail}, "4 of 7 request lines (57%)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Logging{Logs: tc.logs}
			res := p.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "matchmaking", Logs: tc.selector}, Check: loggingCheck(tc.params), Now: t0})
			if res.Status != tc.status {
				t.Errorf("status %s, want %s: %s", res.Status, tc.status, res.Summary)
			}
			var all []string
			for i, l := range res.Links {
				all = append(all, l.Detail)
				if l.Status != tc.links[i] {
					t.Errorf("%s: %s (%s), want %s", l.Name, l.Status, l.Detail, tc.links[i])
				}
			}
			if !strings.Contains(strings.Join(all, "|"), tc.detail) {
				t.Errorf("links lack %q: %v", tc.detail, all)
			}
		})
	}
}

// Examples of unstructured lines are shown with their credentials hidden.
func TestLoggingExamplesAreRedacted(t *testing.T) {
	p := Logging{Logs: FileLogs{Patterns: []string{filepath.Join("testdata", "logs", "plain.log")}}}
	res := p.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "matchmaking", Logs: "matchmaking"}, Check: loggingCheck(nil), Now: t0})
	d := strings.Join(res.Details, "\n")
	if !strings.Contains(d, "not structured: 2026-11-23 09:59:00 INFO matchmaking listening on :8080") {
		t.Errorf("details: %s", d)
	}
	res = p.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "matchmaking", Logs: "timed out"}, Check: loggingCheck(nil), Now: t0})
	if d := strings.Join(res.Details, "\n"); strings.Contains(d, "hunter2") || !strings.Contains(d, "postgres://app:xxxxx@db/mm") {
		t.Errorf("a password in a log line is shown: %s", d)
	}
}

func TestLoggingProbeCannotRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Logging
		selector string
		status   checklist.Status
		want     string
	}{
		{"no selector", Logging{Logs: FileLogs{Patterns: []string{"x"}}}, "", checklist.Error, "no log selector for matchmaking"},
		{"no log source", Logging{}, "service=matchmaking", checklist.Error, "no log source to sample"},
		{"no file", Logging{Logs: FileLogs{Patterns: []string{filepath.Join(t.TempDir(), "*.log")}}}, "service=matchmaking", checklist.Error, "no log file matches"},
		{"bad selector", Logging{Logs: FileLogs{Patterns: []string{"x"}}}, `level>=bogus`, checklist.Error, "the log selector of matchmaking"},
		{"nothing selected", Logging{Logs: FileLogs{Patterns: []string{filepath.Join("testdata", "logs", "json.log")}}}, "service=billing", checklist.Fail, "no log lines of matchmaking"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.p.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "matchmaking", Logs: tc.selector}, Check: loggingCheck(nil), Now: t0})
			if res.Status != tc.status || !strings.Contains(res.Summary, tc.want) {
				t.Errorf("%s %q, want %s %q", res.Status, res.Summary, tc.status, tc.want)
			}
		})
	}
}
