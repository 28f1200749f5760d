package slo

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The testdata spec reads into the SLOs it describes: labels merged from
// the spec down, Sloth's severity label as the severity, a disabled ticket.
func TestParseSlothSpec(t *testing.T) {
	data, err := os.ReadFile("testdata/sloth/payments.sloth.yml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSloth("payments.sloth.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Service != "payments" || got[1].Service != "ledger" {
		t.Fatalf("services %+v", got)
	}
	avail := got[0].SLOs[0]
	want := SLO{
		Name:        "requests-availability",
		Description: "Payment API requests are answered without a server error.",
		Objective:   99.9,
		Window:      DefaultWindow,
		ErrorRatio: "(\n  sum(rate(http_requests_total{job=\"payments-api\",code=~\"(5..|429)\"}[{{.window}}]))\n)\n/\n(\n  (\n" +
			"    sum(rate(http_requests_total{job=\"payments-api\"}[{{.window}}]))\n  ) > 0\n)",
		Labels:      map[string]string{"owner": "payments-team", "tier": "1", "category": "availability"},
		Alert:       "PaymentsAvailabilityBudgetBurn",
		Annotations: map[string]string{"playbook": "https://wiki.example.com/payments/availability"},
		Page:        Alerting{Severity: "critical", Labels: map[string]string{"category": "availability", "routing_key": "payments"}},
		Ticket:      Alerting{Severity: "warning", Labels: map[string]string{"category": "availability", "slack_channel": "#payments-alerts"}},
	}
	if !reflect.DeepEqual(avail, want) {
		t.Errorf("availability SLO\n got %#v\nwant %#v", avail, want)
	}
	lat := got[0].SLOs[1]
	if !lat.Ticket.Disable || lat.Page.Severity != "critical" || lat.InfoLabels["dashboard"] != "payments-latency" ||
		lat.Interval != dur("1m") || !strings.Contains(lat.ErrorRatio, "[{{ .window }}]") {
		t.Errorf("latency SLO %+v", lat)
	}
	if l := got[1].SLOs[0]; l.Labels != nil || l.Page.Severity != "" || l.Alert != "LedgerWritesLost" {
		t.Errorf("ledger SLO %+v", l)
	}
}

func TestParseSlothErrors(t *testing.T) {
	const head = "version: \"prometheus/v1\"\nservice: shop\nslos:\n  - name: avail\n    objective: 99.9\n"
	const events = "    sli:\n      events:\n        error_query: sum(rate(e[{{.window}}]))\n        total_query: sum(rate(t[{{.window}}]))\n"
	const alerting = "    alerting:\n      name: ShopBurn\n"
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown field, named with the known ones", head + events + alerting + "    owner: me\n",
			[]string{"x.yml:12: slos[0].owner: unknown field; slos[0] has name, description, objective"}},
		{"unknown top-level field", "version: \"prometheus/v1\"\nservice: shop\nteam: x\nslos: []\n",
			[]string{"x.yml:3: team: unknown field; prometheus/v1 has version, service, labels, slos"}},
		{"SLI plugins", head + "    sli:\n      plugin:\n        id: sloth-common/availability\n" + alerting,
			[]string{"x.yml:7: slos[0].sli.plugin: Sloth's SLI plugins are not supported"}},
		{"SLO plugins", "version: \"prometheus/v1\"\nservice: shop\nslo_plugins:\n  chain: []\n" + head[strings.Index(head, "slos:"):] + events + alerting,
			[]string{"x.yml:3: slo_plugins: Sloth's SLO plugins are not supported"}},
		{"wrong version", strings.Replace(head, "prometheus/v1", "prometheus/v2", 1) + events + alerting,
			[]string{`x.yml:1: version: "prometheus/v2": want "prometheus/v1"`}},
		{"Kubernetes CRD", "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\n",
			[]string{"x.yml:1: apiVersion: \"sloth.slok.dev/v1\": Sloth's Kubernetes PrometheusServiceLevel is not supported"}},
		{"objective 100", strings.Replace(head, "99.9", "100", 1) + events + alerting,
			[]string{"x.yml:5: slos[0].objective: 100: want a percentage below 100"}},
		{"objective as text", strings.Replace(head, "99.9", `"99.9"`, 1) + events + alerting,
			[]string{`x.yml:5: slos[0].objective: want a number, got "99.9"`}},
		{"missing alerting", head + events, []string{"x.yml:4: slos[0].alerting: required"}},
		{"no placeholder", head + strings.Replace(events, "t[{{.window}}]", "t[5m]", 1) + alerting,
			[]string{"x.yml:9: slos[0].sli.events.total_query: no {{.window}} in the query"}},
		{"PromQL error on its line in a block", head + "    sli:\n      raw:\n        error_ratio_query: |\n          1 - (\n            sum(rate(g[{{.window}}])) /\n          sum(rate(t[{{.window}}]))\n" + alerting,
			[]string{"x.yml:11: slos[0].sli.raw.error_ratio_query: 4:1: parse error: unclosed left parenthesis"}},
		{"PromQL error inside a block", head + "    sli:\n      raw:\n        error_ratio_query: |\n          1 - (\n            sum(rate(g[{{.window}}])) * / 2\n          )\n" + alerting,
			[]string{"x.yml:10: slos[0].sli.raw.error_ratio_query: 2:31: parse error: unexpected <op:/>"}},
		{"events and raw", head + events + "      raw:\n        error_ratio_query: x\n" + alerting,
			[]string{"x.yml:11: slos[0].sli.raw: an SLI is events or raw, not both"}},
		{"reserved label", head + events + alerting + "    labels:\n      sloth_id: x\n",
			[]string{`x.yml:13: slos[0].labels.sloth_id: "sloth_id": oncall sets this label itself`}},
		{"different intervals", head + events + alerting + "    interval:\n      slierror: 30s\n      alert: 1m\n",
			[]string{`x.yml:14: slos[0].interval.alert: 1m differs from slierror "30s"`}},
		{"bad duration", head + events + alerting + "    interval:\n      all: soon\n",
			[]string{`x.yml:13: slos[0].interval.all: "soon": want a duration`}},
		{"duplicate key", head + events + alerting + "    objective: 99\n",
			[]string{"x.yml:12: slos[0].objective: duplicate key (first at line 5)"}},
		{"duplicate SLO", head + events + alerting + "  - name: avail\n    objective: 99\n" + events + alerting,
			[]string{`x.yml:12: slos[1].name: "avail": slos[0] has the same name`}},
		{"both raw spellings", head + "    sli:\n      raw:\n        error_ratio_query: e[{{.window}}]\n        errorRatioQuery: e[{{.window}}]\n" + alerting,
			[]string{"x.yml:9: slos[0].sli.raw.errorRatioQuery: the older spelling of error_ratio_query: set only one"}},
		{"bad alert name", head + events + "    alerting:\n      name: Shop-Burn\n", []string{`x.yml:11: slos[0].alerting.name: "Shop-Burn"`}},
		{"bad annotation template", head + events + alerting + "      annotations:\n        summary: \"{{ .Nope\"\n",
			[]string{"x.yml:13: slos[0].alerting.annotations.summary: bad template"}},
		{"YAML syntax", "version: [\n", []string{"x.yml:"}},
		{"empty", "", []string{"x.yml: no Sloth spec in the file"}},
		{"every problem at once", strings.Replace(head, "99.9", "100", 1) + "    sli: {}\n" + alerting + "    foo: 1\n",
			[]string{"slos[0].objective: 100", "slos[0].sli: want events", "slos[0].foo: unknown field"}},
		{"second document", head + events + alerting + "---\nversion: \"prometheus/v1\"\nservice: other\nslos: []\n",
			[]string{"x.yml:15: slos: no SLO"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSloth("x.yml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// Sloth's older raw spelling, merge keys and the spaced placeholder read.
func TestParseSlothAccepts(t *testing.T) {
	const spec = `version: "prometheus/v1"
service: shop
slos:
  - &base
    name: avail
    objective: 99.5
    sli:
      raw:
        errorRatioQuery: avg_over_time(shop:errors:ratio[{{ .window }}])
    alerting:
      name: ShopBurn
  - <<: *base
    name: avail-eu
`
	got, err := ParseSloth("x.yml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	slos := got[0].SLOs
	if len(slos) != 2 || slos[1].Name != "avail-eu" || slos[1].Objective != 99.5 || slos[1].ErrorRatio != slos[0].ErrorRatio {
		t.Fatalf("SLOs %+v", slos)
	}
	if _, err := Render(Service{Name: got[0].Service}, slos, nil); err != nil {
		t.Fatal(err)
	}
}
