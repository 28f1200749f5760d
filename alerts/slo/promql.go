package slo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
)

// pql parses as oncall's rule engine and promtool do by default.
var pql = parser.NewParser(parser.Options{})

// sliWindows are the ranges an SLI is recorded over: the short and long
// windows of the four burn-rate alerts.
var sliWindows = []time.Duration{
	5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	6 * time.Hour, 24 * time.Hour, 3 * 24 * time.Hour,
}

// withWindow writes the window w where the query has the placeholder.
func withWindow(q string, w time.Duration) string {
	return placeholderRE.ReplaceAllLiteralString(q, formatWindow(w))
}

// formatWindow spells a window as Sloth does: in days when whole days
// (30d, not 4w2d), else as Prometheus does (5m, 1h30m).
func formatWindow(w time.Duration) string {
	const day = 24 * time.Hour
	if w >= day && w%day == 0 {
		return fmt.Sprintf("%dd", w/day)
	}
	return model.Duration(w).String()
}

// checkSLIQuery checks a query measured over windows: it has the
// placeholder and, with each window in its place, parses to an instant
// vector.
func checkSLIQuery(q string) error {
	if !placeholderRE.MatchString(q) {
		return fmt.Errorf("no %s in the query: an SLI is measured over several windows, each written where %s is, as in rate(x[%s])", Placeholder, Placeholder, Placeholder)
	}
	// First with a window as long as the placeholder (5m with leading
	// zeros), so that PromQL's error positions are the query's own.
	padded := placeholderRE.ReplaceAllStringFunc(q, func(p string) string {
		return strings.Repeat("0", max(len(p)-2, 0)) + "5m"
	})
	if err := checkVector(padded); err != nil {
		return err
	}
	for _, w := range sliWindows[1:] {
		if err := checkVector(withWindow(q, w)); err != nil {
			return fmt.Errorf("with %s = %s: %w", Placeholder, formatWindow(w), err)
		}
	}
	return nil
}

// checkInstantQuery checks a query that is not measured over windows.
func checkInstantQuery(q string) error {
	if placeholderRE.MatchString(q) {
		return fmt.Errorf("%s is for SLI queries: a KPI query is an instant ratio with its own ranges", Placeholder)
	}
	return checkVector(q)
}

// checkVector parses q and wants an instant vector.
func checkVector(q string) error {
	if strings.TrimSpace(q) == "" {
		return errors.New("empty query")
	}
	e, err := pql.ParseExpr(q)
	if err != nil {
		return err
	}
	switch e.Type() {
	case parser.ValueTypeVector:
	case parser.ValueTypeMatrix:
		return errors.New("want an instant vector, got a range vector")
	default:
		return fmt.Errorf("want an instant vector, got a %s", e.Type())
	}
	return nil
}

// checkTemplate parses an alert label or annotation as Prometheus does.
func checkTemplate(text string) error {
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(map[string]string{}, map[string]string{}, "", promql.Sample{})
	te := template.NewTemplateExpander(context.Background(), defs+text, "__alert_check", data, 0, nil, nil, nil)
	if err := te.ParseTest(); err != nil {
		return fmt.Errorf("bad template: %w", err)
	}
	return nil
}

// inParens puts a user's query between parentheses, each on its own line
// so that a trailing # comment cannot swallow the closing one. Lines are
// indented unless a raw string (which may span lines) could change.
func inParens(q, indent string) string {
	q = strings.TrimSpace(q)
	if !strings.Contains(q, "`") {
		q = indentLines(q, indent+"  ")
	}
	return "(\n" + q + "\n" + indent + ")"
}

// indentLines indents every line of s that is not blank and drops
// trailing spaces, which YAML's block style cannot keep.
func indentLines(s, indent string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l != "" {
			l = indent + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}
