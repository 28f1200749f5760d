package probe

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// LogSampler returns up to n of the most recent log lines the filter
// selects, oldest first.
type LogSampler interface {
	Sample(ctx context.Context, f logs.Filter, n int) ([][]byte, error)
}

// FileLogs samples log files: every file the globs match, in order.
type FileLogs struct {
	Patterns []string
}

// Sample implements LogSampler with logs.Grep over each file.
func (s FileLogs) Sample(ctx context.Context, f logs.Filter, n int) ([][]byte, error) {
	ring := make([][]byte, 0, n)
	next := 0
	var files []string
	for _, pat := range s.Patterns {
		m, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("log files %q: %w", pat, err)
		}
		slices.Sort(m)
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no log file matches %s", strings.Join(s.Patterns, ", "))
	}
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		_, err = logs.Grep(fh, f, logs.GrepOptions{}, func(line []byte, _ *logs.Entry) error {
			l := bytes.Clone(line)
			if len(ring) < n {
				ring = append(ring, l)
			} else {
				ring[next] = l
				next = (next + 1) % n
			}
			return ctx.Err()
		})
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return append(ring[next:], ring[:next]...), nil
}

// requestFields mark a log line as being about a request.
var requestFields = []string{"method", "http_method", "http.method", "path", "url", "uri", "route", "status", "status_code", "http.status_code", "http_status"}

var requestRE = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /`)

// Logging proves "uses structured logging" on a sample of the service's
// recent log lines (its catalogue log selector): at least params.threshold
// (default 0.9) of them parse as JSON or logfmt; as many of those carry
// time, level and message keys; and the lines about a request carry a
// request, trace or transaction id. params.sample (default 1000) bounds
// the sample.
type Logging struct {
	Logs LogSampler
}

// Probe implements checklist.Prober.
func (p Logging) Probe(ctx context.Context, t checklist.Target) checklist.Result {
	svc := t.Service
	if svc.Logs == "" {
		return errorResult("no log selector for %s: set services[].logs in the configuration (e.g. service=%s)", svc.Name, svc.Name)
	}
	if p.Logs == nil {
		return errorResult("no log source to sample: set logs.files")
	}
	f, err := logs.ParseFilter(svc.Logs)
	if err != nil {
		return errorResult("the log selector of %s, %q: %v", svc.Name, svc.Logs, err)
	}
	threshold, err := floatParam(t.Check, "threshold", 0.9)
	if err != nil {
		return errorResult("%v", err)
	}
	n, err := floatParam(t.Check, "sample", 1000)
	if err != nil || n < 1 {
		return errorResult("check %s: params.sample wants a positive number", t.Check.ID)
	}
	lines, err := p.Logs.Sample(ctx, f, int(n))
	if err != nil {
		return errorResult("could not read the logs of %s: %v", svc.Name, err)
	}
	if len(lines) == 0 {
		return checklist.Result{Status: checklist.Fail, Summary: fmt.Sprintf("no log lines of %s (selector %s) to sample", svc.Name, svc.Logs)}
	}
	var js, lf, complete, requests, withID int
	missing := map[string]int{}
	var plain, noID []string
	for _, line := range lines {
		e, structured := logs.ParseLine(line)
		if !structured {
			if len(plain) < 2 {
				plain = append(plain, example(line))
			}
			continue
		}
		if bytes.HasPrefix(bytes.TrimSpace(line), []byte("{")) {
			js++
		} else {
			lf++
		}
		ok := true
		for key, has := range map[string]bool{"time": !e.Time.IsZero(), "level": e.Level != logs.LevelUnknown, "message": e.Message != ""} {
			if !has {
				missing[key]++
				ok = false
			}
		}
		if ok {
			complete++
		}
		if isRequest(e) {
			requests++
			if e.TraceID != "" {
				withID++
			} else if len(noID) < 2 {
				noID = append(noID, example(line))
			}
		}
	}
	total := len(lines)
	structured := js + lf
	share := func(a, b int) float64 { return float64(a) / float64(b) }
	links := []checklist.Link{{Name: "structured"}, {Name: "keys"}, {Name: "request ids"}}
	links[0].Detail = fmt.Sprintf("%d of %d lines (%.0f%%) are JSON (%d) or logfmt (%d); want %.0f%%", structured, total, 100*share(structured, total), js, lf, 100*threshold)
	links[0].Status = checklist.Pass
	if share(structured, total) < threshold {
		links[0].Status = checklist.Fail
	}
	switch {
	case structured == 0:
		links[1] = checklist.Link{Name: "keys", Status: checklist.NotReported, Detail: "not checked: no structured line"}
	default:
		links[1].Detail = fmt.Sprintf("%d of %d structured lines (%.0f%%) have time, level and message", complete, structured, 100*share(complete, structured))
		links[1].Status = checklist.Pass
		if share(complete, structured) < threshold {
			links[1].Status = checklist.Fail
			var parts []string
			for _, k := range []string{"time", "level", "message"} {
				if missing[k] > 0 {
					parts = append(parts, fmt.Sprintf("%s missing on %d", k, missing[k]))
				}
			}
			links[1].Detail += ": " + strings.Join(parts, ", ")
		}
	}
	switch {
	case requests == 0:
		links[2] = checklist.Link{Name: "request ids", Status: checklist.Warn, Detail: "no line about a request in the sample (method, path or status fields) to look for request ids on"}
	default:
		links[2].Detail = fmt.Sprintf("%d of %d request lines (%.0f%%) carry a request, trace or transaction id", withID, requests, 100*share(withID, requests))
		links[2].Status = checklist.Pass
		if share(withID, requests) < threshold {
			links[2].Status = checklist.Fail
		}
	}
	res := fromLinks(links, fmt.Sprintf("%.0f%% of %d recent lines are structured, with time, level, message and request ids", 100*share(structured, total), total))
	for _, l := range plain {
		res.Details = append(res.Details, "not structured: "+l)
	}
	for _, l := range noID {
		res.Details = append(res.Details, "request without an id: "+l)
	}
	return res
}

func isRequest(e logs.Entry) bool {
	for _, k := range requestFields {
		if _, ok := e.Fields[k]; ok {
			return true
		}
	}
	return requestRE.MatchString(e.Message)
}

// example is a log line shortened and with its credentials hidden.
func example(line []byte) string {
	s := secret.Redact(strings.TrimSpace(string(line)))
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}
