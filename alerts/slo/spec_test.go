package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func goodSLO() SLO {
	return SLO{
		Name:      "availability",
		Objective: 99.9,
		Good:      `sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))`,
		Total:     `sum(rate(http_requests_total[{{.window}}]))`,
	}
}

func goodKPI() KPI {
	return KPI{
		Name:        "orders_per_visit",
		Numerator:   `sum(rate(orders_total[10m]))`,
		Denominator: `sum(rate(visits_total[10m]))`,
		Baseline:    Baseline{Offset: model.Duration(7 * 24 * time.Hour)},
		MaxDrop:     0.2,
	}
}

func dur(s string) model.Duration {
	d, err := model.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestSLOValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*SLO)
		want string // a substring of the error; "" for none
	}{
		{"valid", func(*SLO) {}, ""},
		{"valid error ratio", func(s *SLO) { s.Good, s.Total, s.ErrorRatio = "", "", `avg_over_time(job:errors:ratio[{{ .window }}])` }, ""},
		{"objective 100.5", func(s *SLO) { s.Objective = 100.5 }, "objective: 100.5: want a percentage below 100"},
		{"objective 100", func(s *SLO) { s.Objective = 100 }, "objective: 100: want a percentage below 100"},
		{"objective as a ratio", func(s *SLO) { s.Objective = 0.999 }, "objective: 0.999: want a percentage above 1"},
		{"no name", func(s *SLO) { s.Name = "" }, "name: required"},
		{"bad name", func(s *SLO) { s.Name = "a b" }, `name: "a b": want letters`},
		{"window too short", func(s *SLO) { s.Window = dur("3d") }, "window: 3d: want more than 3d"},
		{"window in seconds", func(s *SLO) { s.Window = dur("7d") + model.Duration(time.Second) }, "want whole minutes"},
		{"no SLI", func(s *SLO) { s.Good, s.Total = "", "" }, "good: no SLI: want good and total queries, or an error_ratio query"},
		{"both SLIs", func(s *SLO) { s.ErrorRatio = "x" }, "error_ratio: set good and total, or error_ratio, not both"},
		{"good without total", func(s *SLO) { s.Total = "" }, "total: required with good"},
		{"no placeholder", func(s *SLO) { s.Total = `sum(rate(http_requests_total[5m]))` }, "total: no {{.window}} in the query"},
		{"promql error at its position", func(s *SLO) { s.Good = `sum(rate(x[{{.window}}])) +` }, "good: 1:28: parse error: unexpected end of input"},
		{"a range vector", func(s *SLO) { s.Good = `x[{{.window}}]` }, "good: want an instant vector, got a range vector"},
		{"a window only some spans break", func(s *SLO) { s.Good = `sum(rate(x[1d{{.window}}]))` }, "good: with {{.window}} = 1d:"},
		{"reserved label", func(s *SLO) { s.Labels = map[string]string{"severity": "x"} }, `labels: "severity": oncall sets this label itself`},
		{"template in a recorded label", func(s *SLO) { s.Labels = map[string]string{"team": "{{ $value }}"} }, "labels.team: \"{{ $value }}\": labels of recorded series are not templates"},
		{"bad label name", func(s *SLO) { s.Labels = map[string]string{"a-b": "x"} }, `labels: "a-b": a label name is`},
		{"bad annotation template", func(s *SLO) { s.Annotations = map[string]string{"summary": "{{ .Nope"} }, "annotations.summary: bad template"},
		{"page label template", func(s *SLO) { s.Page.Labels = map[string]string{"channel": "{{ end }}"} }, "page.labels.channel: bad template"},
		{"page label template ok", func(s *SLO) { s.Page.Labels = map[string]string{"channel": "{{ $labels.team }}"} }, ""},
		{"negative for", func(s *SLO) { s.Ticket.For = -1 }, "ticket.for:"},
		{"bad alert name", func(s *SLO) { s.Alert = "Budget-Burn" }, `alert: "Budget-Burn": want letters`},
		{"name making a bad alert", func(s *SLO) { s.Name = "5xx" }, `alert: "5xxBudgetBurn" (from the name) is not a valid alert name`},
		{"interval too long", func(s *SLO) { s.Interval = dur("10m") }, "interval: 10m: want a duration up to 5m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := goodSLO()
			c.edit(&s)
			checkErr(t, s.Validate(), c.want)
		})
	}
}

func TestKPIValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*KPI)
		want string
	}{
		{"valid", func(*KPI) {}, ""},
		{"valid same time", func(k *KPI) {
			k.Baseline = Baseline{SameTime: &SameTime{Every: dur("1d"), Count: 7}}
			k.MinVolume = &Volume{AtLeast: 50}
		}, ""},
		{"no baseline", func(k *KPI) { k.Baseline = Baseline{} }, "baseline: want one of offset (1w), moving_average (7d) or same_time"},
		{"two baselines", func(k *KPI) { k.Baseline.MovingAverage = dur("7d") }, "baseline: offset and moving_average: want only one"},
		{"same time without count", func(k *KPI) { k.Baseline = Baseline{SameTime: &SameTime{Every: dur("1d")}} }, "baseline.same_time.count: 0: want how many past periods"},
		{"same time without every", func(k *KPI) { k.Baseline = Baseline{SameTime: &SameTime{Count: 7}} }, "baseline.same_time.every: 0s: want the period"},
		{"no bound", func(k *KPI) { k.MaxDrop = 0 }, "max_drop: want max_drop, max_rise or both"},
		{"drop of 100%", func(k *KPI) { k.MaxDrop = 1 }, "max_drop: 1: want a fraction between 0 and 1"},
		{"drop as a percentage", func(k *KPI) { k.MaxDrop = 20 }, "max_drop: 20: want a fraction between 0 and 1 (0.2 is 20%)"},
		{"negative rise", func(k *KPI) { k.MaxRise = -0.1 }, "max_rise: -0.1: want a fraction above 0"},
		{"volume without floor", func(k *KPI) { k.MinVolume = &Volume{Query: "sum(visits)"} }, "min_volume.at_least: 0: want a number above 0"},
		{"bad volume query", func(k *KPI) { k.MinVolume = &Volume{Query: "sum(", AtLeast: 1} }, "min_volume.query: 1:5: parse error"},
		{"no numerator", func(k *KPI) { k.Numerator = "" }, "numerator: required"},
		{"placeholder in a KPI", func(k *KPI) { k.Denominator = "sum(rate(v[{{.window}}]))" }, "denominator: {{.window}} is for SLI queries"},
		{"a scalar", func(k *KPI) { k.Denominator = "1" }, "denominator: want an instant vector, got a scalar"},
		{"negative for", func(k *KPI) { f := model.Duration(-1); k.For = &f }, "for:"},
		{"zero for is allowed", func(k *KPI) { f := model.Duration(0); k.For = &f }, ""},
		{"name making a bad alert", func(k *KPI) { k.Name = "1st" }, `the alert names made from it (1stDropped) are not valid`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := goodKPI()
			c.edit(&k)
			checkErr(t, k.Validate(), c.want)
		})
	}
}

// The spec names each item's field by its place, and duplicate names.
func TestSpecValidateNamesTheItem(t *testing.T) {
	bad := goodSLO()
	bad.Objective = 100.5
	s := Spec{SLOs: []SLO{goodSLO(), bad}, KPIs: []KPI{goodKPI(), goodKPI()}}
	err := s.Validate()
	checkErr(t, err, "slos[1].objective: 100.5: want a percentage below 100")
	checkErr(t, err, `slos[1].name: "availability": slos[0] has the same name`)
	checkErr(t, err, `kpis[1].name: "orders_per_visit": kpis[0] has the same name`)
	if strings.Contains(err.Error(), "slos[0]:") {
		t.Errorf("the valid SLO is reported: %v", err)
	}
}

// Generate refuses what does not validate, naming the service too.
func TestGenerateValidates(t *testing.T) {
	if _, err := Generate(Service{Name: "shop"}, []SLO{{Name: "x"}}, nil); err == nil || !strings.Contains(err.Error(), "slos[0].objective") {
		t.Errorf("Generate of a bad SLO: %v", err)
	}
	if _, err := Generate(Service{Name: "a b"}, []SLO{goodSLO()}, nil); err == nil || !strings.Contains(err.Error(), `service.name: "a b"`) {
		t.Errorf("Generate for a bad service: %v", err)
	}
	if _, err := Generate(Service{Name: "shop", Labels: map[string]string{"slo": "x"}}, []SLO{goodSLO()}, nil); err == nil || !strings.Contains(err.Error(), `service.labels: "slo"`) {
		t.Errorf("Generate with a reserved service label: %v", err)
	}
}

// What a spec writes into a template stays text: a description or a
// runbook URL with braces cannot run as a template.
func TestTextIsNotTemplated(t *testing.T) {
	s := goodSLO()
	s.Description = "Shows {{ $value }} to {{ customers"
	b, err := Render(Service{Name: "shop", Runbook: "https://wiki/{{x}}"}, []SLO{s}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Shows {{ "{{" }} $value }} to {{ "{{" }} customers`, `runbook_url: https://wiki/{{ "{{" }}x}}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rendered rules lack %s", want)
		}
	}
}

// A query ending in a comment cannot swallow the generator's parenthesis.
func TestQueryWithComment(t *testing.T) {
	s := goodSLO()
	s.Good = "sum(rate(http_requests_total{code!~\"5..\"}[{{.window}}])) # good ones"
	k := goodKPI()
	k.Numerator = "sum(rate(orders_total[10m])) # orders"
	if _, err := Render(Service{Name: "shop"}, []SLO{s}, []KPI{k}); err != nil {
		t.Fatal(err)
	}
}

func TestFormatWindow(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 90 * time.Minute: "1h30m", 24 * time.Hour: "1d",
		28 * 24 * time.Hour: "28d", 30 * 24 * time.Hour: "30d", 100 * time.Hour: "4d4h",
	} {
		if got := formatWindow(d); got != want {
			t.Errorf("formatWindow(%v) = %q, want %q", d, got, want)
		}
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q\nwant it to contain %q", err, want)
	}
}
