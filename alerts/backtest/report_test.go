package backtest

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/oncallhq/oncall/internal/golden"
	"github.com/prometheus/prometheus/model/labels"
)

// ep is an episode of the label set ls from a to b minutes after epoch.
func ep(ls string, a, b int) Episode {
	return Episode{Labels: labels.FromStrings("alertname", "A", "instance", ls, "severity", sevOf[ls]), Start: epoch.Add(time.Duration(a) * time.Minute),
		End: epoch.Add(time.Duration(b) * time.Minute)}
}

var sevOf = map[string]string{"a": "page", "b": "warning", "c": "critical"}

func TestSummarize(t *testing.T) {
	week := Options{Since: epoch, Until: epoch.Add(7 * 24 * time.Hour), FlapWindow: time.Hour, PageSeverities: []string{"critical", "page"}, Top: 2}
	twoWeeks := week
	twoWeeks.Until = epoch.Add(14 * 24 * time.Hour)
	open := ep("a", 100, 7*24*60)
	open.Open = true
	tests := []struct {
		name     string
		opts     Options
		forDur   time.Duration
		eps      []Episode
		unfired  []Spell
		episodes int
		flaps    int
		pages    int
		perWeek  float64
		firing   Durations
		pending  int
		pendingT time.Duration
		open     int
		top      []string
	}{
		{name: "nothing", opts: week},
		{
			name: "one", opts: week, eps: []Episode{ep("a", 0, 10)},
			episodes: 1, pages: 1, perWeek: 1, firing: Durations{10 * time.Minute, 10 * time.Minute, 10 * time.Minute}, top: []string{"a"},
		},
		{
			// a comes back after 30m (a flap), then after 61m (not one);
			// b comes back after 60m exactly (a flap: within).
			name: "flaps", opts: week,
			eps:      []Episode{ep("a", 0, 10), ep("b", 5, 6), ep("a", 40, 50), ep("b", 66, 70), ep("a", 111, 112)},
			episodes: 5, flaps: 2, pages: 3, perWeek: 3,
			firing: Durations{Total: 26 * time.Minute, Median: 4 * time.Minute, P90: 10 * time.Minute}, top: []string{"a", "b"},
		},
		{
			// With for: 30m, the condition came back 40m after: within
			// the window plus for.
			name: "for widens the window", opts: week, forDur: 30 * time.Minute,
			eps:      []Episode{ep("b", 0, 10), ep("b", 100, 110), ep("b", 250, 260)},
			episodes: 3, flaps: 1, firing: Durations{30 * time.Minute, 10 * time.Minute, 10 * time.Minute}, top: []string{"b"},
		},
		{
			name: "pages per week over two weeks", opts: twoWeeks,
			eps:      []Episode{ep("c", 0, 1), ep("c", 200, 201), ep("c", 400, 401), ep("b", 500, 510)},
			episodes: 4, pages: 3, perWeek: 1.5, firing: Durations{13 * time.Minute, time.Minute, 10 * time.Minute}, top: []string{"c", "b"},
		},
		{
			// Nearest rank over 1..10 minutes: the 5th and the 9th.
			name: "percentiles", opts: week,
			eps: []Episode{ep("b", 0, 1), ep("b", 100, 102), ep("b", 200, 203), ep("b", 300, 304), ep("b", 400, 405), ep("b", 500, 506),
				ep("b", 600, 607), ep("b", 700, 708), ep("b", 800, 809), ep("b", 900, 910)},
			episodes: 10, firing: Durations{55 * time.Minute, 5 * time.Minute, 9 * time.Minute}, top: []string{"b"},
		},
		{
			name: "open episode", opts: week, eps: []Episode{ep("b", 0, 1), open},
			episodes: 2, open: 1, pages: 1, perWeek: 1, firing: Durations{7*24*60*time.Minute - 99*time.Minute, time.Minute, 7*24*60*time.Minute - 100*time.Minute},
			top: []string{"a", "b"},
		},
		{
			name: "pending that never fired", opts: week,
			unfired: []Spell{{Start: epoch, End: epoch.Add(3 * time.Minute)}, {Start: epoch.Add(time.Hour), End: epoch.Add(time.Hour + 4*time.Minute)}},
			pending: 2, pendingT: 7 * time.Minute,
		},
		{
			// Top: most episodes first, then most firing time; at most
			// Top (2) of them.
			name: "top series", opts: week,
			eps:      []Episode{ep("c", 0, 1), ep("a", 10, 30), ep("b", 40, 41), ep("b", 200, 202), ep("c", 300, 301)},
			episodes: 5, pages: 3, perWeek: 3, firing: Durations{25 * time.Minute, time.Minute, 20 * time.Minute}, top: []string{"b", "c"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := RuleReport{For: tc.forDur}
			r.summarize(tc.eps, tc.unfired, tc.opts)
			if r.Episodes != tc.episodes || r.Flaps != tc.flaps || r.Pages != tc.pages || r.PagesPerWeek != tc.perWeek || r.Open != tc.open {
				t.Errorf("episodes %d flaps %d pages %d (%g/week) open %d; want %d %d %d (%g) %d", r.Episodes, r.Flaps, r.Pages, r.PagesPerWeek, r.Open,
					tc.episodes, tc.flaps, tc.pages, tc.perWeek, tc.open)
			}
			if r.Firing != tc.firing {
				t.Errorf("firing %+v, want %+v", r.Firing, tc.firing)
			}
			if r.PendingOnly != tc.pending || r.PendingOnlyTime != tc.pendingT {
				t.Errorf("pending only %d for %v, want %d for %v", r.PendingOnly, r.PendingOnlyTime, tc.pending, tc.pendingT)
			}
			var top []string
			for _, s := range r.TopSeries {
				top = append(top, s.Labels.Get("instance"))
			}
			if !slices.Equal(top, tc.top) {
				t.Errorf("top %v, want %v", top, tc.top)
			}
		})
	}
}

// The noisiest rule comes first: episodes, then flaps, firing time,
// pending without firing, name; rules that failed last.
func TestReportSort(t *testing.T) {
	r := Report{Rules: []RuleReport{
		{Alert: "Broken", Error: "boom", Episodes: 100},
		{Alert: "Quiet"},
		{Alert: "Pending", PendingOnly: 3},
		{Alert: "LongFiring", Episodes: 2, Firing: Durations{Total: time.Hour}},
		{Alert: "ShortFiring", Episodes: 2, Firing: Durations{Total: time.Minute}},
		{Alert: "Flappy", Episodes: 2, Flaps: 1},
		{Alert: "Most", Episodes: 9},
		{Alert: "AlsoQuiet"},
	}}
	r.sort()
	var got []string
	for _, rr := range r.Rules {
		got = append(got, rr.Alert)
	}
	want := []string{"Most", "Flappy", "LongFiring", "ShortFiring", "Pending", "AlsoQuiet", "Quiet", "Broken"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// goldenReport is a report as a backtest writes it.
func goldenReport() Report {
	o := Options{Since: epoch, Until: epoch.Add(7 * 24 * time.Hour), FlapWindow: time.Hour, PageSeverities: []string{"critical", "page"}, Top: 2}
	noisy := RuleReport{Alert: "HighErrors", Group: "api", File: "rules/api.yml", Line: 7, Severity: "page", Interval: time.Minute, For: 5 * time.Minute,
		Query: `service:errors:rate5m{service=~"api|web"} > 0.05`, Evaluations: 10080}
	eps := []Episode{ep("a", 0, 10), ep("a", 30, 45), ep("c", 100, 190), ep("a", 300, 301)}
	for i := range eps {
		eps[i].Labels = labels.NewBuilder(eps[i].Labels).Set("alertname", "HighErrors").Labels()
		eps[i].ActiveAt = eps[i].Start.Add(-5 * time.Minute)
	}
	noisy.summarize(eps, []Spell{{Labels: eps[0].Labels, Start: epoch.Add(500 * time.Minute), End: epoch.Add(503 * time.Minute)}}, o)
	quiet := RuleReport{Alert: "DiskFull", Group: "node", File: "rules/node.yml", Line: 3, Severity: "warning", Interval: 30 * time.Second,
		For: time.Hour, KeepFiringFor: 10 * time.Minute, Query: "node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05", Evaluations: 20160}
	quiet.summarize(nil, nil, o)
	broken := RuleReport{Alert: "Broken", Group: "node", File: "rules/node.yml", Line: 12, Query: "rate(x[5m]) > 1", Error: `query "rate(x[5m]) > 1": timeout`}
	dup := RuleReport{Alert: "Dup", Group: "node", File: "rules/node.yml", Line: 20, Interval: time.Minute, Evaluations: 10080, EvalErrors: 3,
		FirstEvalError: "2026-03-02T01:00:00Z: vector contains metrics with the same labelset after applying alert labels"}
	dup.summarize(nil, nil, o)
	r := Report{Since: o.Since, Until: o.Until, FlapWindow: o.FlapWindow, PageSeverities: o.PageSeverities, Expanded: []string{"service:errors:rate5m"},
		Rules: []RuleReport{quiet, broken, dup, noisy}}
	r.sort()
	return r
}

func TestWriteTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := goldenReport().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	golden.File(t, "report.txt", b.Bytes())
}

func TestJSONGolden(t *testing.T) {
	b, err := json.MarshalIndent(goldenReport(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.File(t, "report.json", append(b, '\n'))
}

// The JSON's schema: every field there with its type, durations as
// numbers of seconds, lists never null.
func TestJSONSchema(t *testing.T) {
	b, err := json.Marshal(goldenReport())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	const (
		str = "string"
		num = "number"
		arr = "array"
		obj = "object"
	)
	kind := func(v any) string {
		switch v.(type) {
		case string:
			return str
		case float64:
			return num
		case []any:
			return arr
		case map[string]any:
			return obj
		case bool:
			return "bool"
		}
		return "null"
	}
	check := func(where string, m map[string]any, want map[string]string, optional ...string) {
		t.Helper()
		for k, w := range want {
			v, ok := m[k]
			if !ok {
				if !slices.Contains(optional, k) {
					t.Errorf("%s: no %q", where, k)
				}
				continue
			}
			if kind(v) != w {
				t.Errorf("%s.%s is a %s, want a %s", where, k, kind(v), w)
			}
		}
		for k := range m {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected field %q", where, k)
			}
		}
	}
	check("report", doc, map[string]string{"since": str, "until": str, "weeks": num, "flap_window_seconds": num, "page_severities": arr,
		"expanded_recorded_series": arr, "rules": arr})
	if doc["weeks"] != 1.0 || doc["flap_window_seconds"] != 3600.0 {
		t.Errorf("weeks %v, flap window %v s", doc["weeks"], doc["flap_window_seconds"])
	}
	rules := doc["rules"].([]any)
	if len(rules) != 4 {
		t.Fatalf("%d rules", len(rules))
	}
	ruleFields := map[string]string{"alert": str, "group": str, "file": str, "line": num, "severity": str, "interval_seconds": num, "for_seconds": num,
		"keep_firing_for_seconds": num, "query": str, "evaluations": num, "episodes": num, "open": num, "flaps": num, "pages": num,
		"pages_per_week": num, "firing": obj, "pending_never_fired": num, "pending_never_fired_seconds": num, "top_series": arr,
		"evaluation_errors": num, "first_evaluation_error": str, "error": str, "episode_list": arr}
	for _, r := range rules {
		r := r.(map[string]any)
		where := "rules[" + r["alert"].(string) + "]"
		check(where, r, ruleFields, "first_evaluation_error", "error", "episode_list")
		check(where+".firing", r["firing"].(map[string]any), map[string]string{"total_seconds": num, "median_seconds": num, "p90_seconds": num})
		for _, s := range r["top_series"].([]any) {
			check(where+".top_series", s.(map[string]any), map[string]string{"labels": obj, "episodes": num, "firing_seconds": num})
		}
		if eps, ok := r["episode_list"].([]any); ok {
			for _, e := range eps {
				check(where+".episode_list", e.(map[string]any), map[string]string{"labels": obj, "active_at": str, "start": str, "end": str, "open": "bool"}, "open")
			}
		}
	}
	first := rules[0].(map[string]any)
	if first["alert"] != "HighErrors" || first["for_seconds"] != 300.0 || first["firing"].(map[string]any)["total_seconds"] != float64(116*60) {
		t.Errorf("first rule %v", first)
	}
	// Without the episode lists, as the CLI writes it by default.
	b, _ = json.Marshal(goldenReport().WithoutEpisodes())
	var lean map[string]any
	json.Unmarshal(b, &lean)
	for _, r := range lean["rules"].([]any) {
		if _, ok := r.(map[string]any)["episode_list"]; ok {
			t.Error("episode_list written without episodes")
		}
	}
}
