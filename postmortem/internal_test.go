package postmortem

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// With more lines than a postmortem quotes, it quotes those nearest the
// peak, in time order, errors before the rest, the affected service's
// only.
func TestPeakLogsNearestThePeak(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var es []logs.Entry
	for i := range 120 {
		at := t0.Add(time.Duration(i) * time.Second)
		es = append(es, logs.Entry{Time: at, Level: logs.LevelError, Service: "checkout", Message: "failed"},
			logs.Entry{Time: at, Level: logs.LevelInfo, Service: "checkout", Message: "ok"},
			logs.Entry{Time: at, Level: logs.LevelError, Service: "search", Message: "lagging"})
	}
	for _, tc := range []struct {
		name        string
		peak        time.Time
		first, last time.Time
	}{
		{"peak in the middle", t0.Add(60 * time.Second), t0.Add(50 * time.Second), t0.Add(69 * time.Second)},
		{"peak at the start", t0, t0, t0.Add(19 * time.Second)},
		{"peak after the lines", t0.Add(10 * time.Minute), t0.Add(100 * time.Second), t0.Add(119 * time.Second)},
	} {
		got := peakLogs(es, []string{"checkout"}, catalog.Catalog{}, tc.peak)
		if len(got) != maxLogLines || !got[0].Time.Equal(tc.first) || !got[len(got)-1].Time.Equal(tc.last) {
			t.Errorf("%s: %d lines from %v to %v, want %d from %v to %v", tc.name, len(got), got[0].Time, got[len(got)-1].Time, maxLogLines, tc.first, tc.last)
		}
		for i, l := range got {
			if l.Service != "checkout" || l.Level != logs.LevelError || (i > 0 && l.Time.Before(got[i-1].Time)) {
				t.Errorf("%s: line %d %+v", tc.name, i, l.Entry)
			}
		}
	}
}

// A small burn still says how much: two significant digits below 1%.
func TestPct(t *testing.T) {
	for in, want := range map[float64]string{0.137: "13.7%", 0.00058: "0.058%", 0: "0.0%", 1.5: "150.0%", 0.0099: "0.99%"} {
		if got := pct(in); got != want {
			t.Errorf("pct(%v) = %q, want %q", in, got, want)
		}
	}
}

// Action items are due in 15 days for SEV1, 30 for SEV2, 60 below.
func TestDefaultActionDueDays(t *testing.T) {
	for sev, want := range map[incidents.Severity]int{incidents.SEV1: 15, incidents.SEV2: 30, incidents.SEV3: 60, incidents.SEV4: 60} {
		if got := DefaultActionDueDays(sev); got != want {
			t.Errorf("%v: %d days, want %d", sev, got, want)
		}
	}
}

// An alert is shown with the rule that made it: of two rules of one name
// (an SLO's page and ticket), the one whose labels it carries.
func TestRuleOfTellsSameNamedRulesApart(t *testing.T) {
	rs := []alerts.Rule{
		{Name: "Burn", Record: true},
		{Name: "Burn", File: "slo.yml", Line: 10, Labels: map[string]string{"severity": "page"}},
		{Name: "Burn", File: "slo.yml", Line: 20, Labels: map[string]string{"severity": "ticket", "team": "{{ $labels.owner }}"}},
		{Name: "Other", File: "o.yml", Line: 1},
	}
	for _, tc := range []struct {
		name string
		ls   labels.Labels
		want string // Where, "" for none
	}{
		{"Burn", labels.FromStrings("alertname", "Burn", "severity", "ticket", "team", "a"), "slo.yml:20"},
		{"Burn", labels.FromStrings("alertname", "Burn", "severity", "page"), "slo.yml:10"},
		{"Burn", labels.FromStrings("alertname", "Burn", "severity", "warning"), "slo.yml:10"}, // none matches: the first of the name
		{"Other", labels.FromStrings("alertname", "Other"), "o.yml:1"},
		{"Gone", labels.FromStrings("alertname", "Gone"), ""},
	} {
		r, ok := ruleOf(rs, tc.name, tc.ls)
		got := ""
		if ok {
			got = r.Where()
		}
		if got != tc.want {
			t.Errorf("%s %v: rule %q, want %q", tc.name, tc.ls, got, tc.want)
		}
	}
}
