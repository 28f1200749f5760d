package main

import (
	"bufio"
	"strings"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Text from outside is drawn with its control characters visible: an
// alert or a silence cannot recolour the terminal that lists it.
func TestTablesShowControlCharactersVisibly(t *testing.T) {
	const evil = "\x1b[41mPWNED\x1b]0;title\x07"
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	a := alerts.Alert{Labels: labels.FromStrings("alertname", "A"+evil, "severity", evil, "service", evil),
		Annotations: labels.FromStrings("summary", "line one\n"+evil), StartsAt: now}
	a.Status.State = alerts.StateFiring
	printAlerts(&b, []alerts.Alert{a}, now)
	m, _ := amlabels.NewMatcher(amlabels.MatchEqual, "service", evil)
	printSilences(&b, []silence.Silence{{ID: "id" + evil, Matchers: amlabels.Matchers{m}, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: evil, Comment: evil}}, now)
	printResult(&b, metrics.Result{Type: metrics.TypeVector, Vector: metrics.Vector{{Labels: labels.FromStrings("x", evil), Value: 1}}})
	printResult(&b, metrics.Result{Type: metrics.TypeString, String: evil})
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("raw control characters in:\n%q", out)
	}
	if !strings.Contains(out, "^[[41mPWNED") || !strings.Contains(out, "line one↵") {
		t.Errorf("the text should still be readable:\n%s", out)
	}
}

// On a terminal, log lines show their control characters; piped, they
// pass byte for byte, as grep's do.
func TestLogLinesOnATerminal(t *testing.T) {
	line := []byte("level=error msg=\"\x1b[2J wiped\"")
	for _, clean := range []bool{true, false} {
		var b strings.Builder
		w := bufio.NewWriter(&b)
		p := &logPrinter{w: w, clean: clean}
		p.emit(line, nil)
		w.Flush()
		if got, raw := b.String(), strings.Contains(b.String(), "\x1b"); raw == clean {
			t.Errorf("clean=%v: %q", clean, got)
		}
	}
}
