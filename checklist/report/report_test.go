package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/internal/golden"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fixture is the built-in prod checklist evaluated for a tier-2 service
// with every kind of result: probes that pass, warn, fail and could not
// run, a waiver, an attestation, a pushed result, and a gold check that
// is not required.
func fixture() checklist.Run {
	cl := checklist.Builtin()[0]
	svc := catalog.Service{Name: "matchmaking", Tier: 2}
	const day = 24 * time.Hour
	probed := map[string]checklist.Result{
		"alerts-a-human": {Status: checklist.Fail, Summary: "on-call: step 1 has nobody on call", Duration: 40 * time.Millisecond, Links: []checklist.Link{
			{Name: "rule", Status: checklist.Pass, Detail: "MatchmakingDown (rules/mm.yml:4) alerts on up"},
			{Name: "series", Status: checklist.Pass, Detail: `up{job="matchmaking"} matches 2 series of matchmaking at the source`},
			{Name: "route", Status: checklist.Pass, Detail: "routes to receiver pager (route {}/{severity=\"page\"}), which opens an incident with policy mm"},
			{Name: "on-call", Status: checklist.Fail, Detail: "step 1 (primary: schedule primary) of policy mm has nobody on call from 2026-11-28 00:00 to 2026-11-29 00:00 UTC"},
		}},
		"enforces-ssl": {Status: checklist.Warn, Summary: "expiry: expires in 20 days (2026-12-13): renew it, under 30 days", Duration: 120 * time.Millisecond, Links: []checklist.Link{
			{Name: "redirect", Status: checklist.Pass, Detail: "plain HTTP redirects permanently (301) to https://mm.example.com/"},
			{Name: "expiry", Status: checklist.Warn, Detail: "expires in 20 days (2026-12-13): renew it, under 30 days"},
		}},
		"ops-docs":           {Status: checklist.Error, Summary: "could not fetch the runbook https://runbooks.example.com/mm: connection refused", Duration: 3 * time.Millisecond},
		"structured-logging": {Status: checklist.Fail, Summary: "structured: 40 of 100 lines (40%) are JSON (40) or logfmt (0); want 90%", Duration: 9 * time.Millisecond, Details: []string{"not structured: GET /v1/matches 200 <script>"}},
		"staging-parity":     {Status: checklist.Fail, Summary: "staging runs 1.4.0, production runs 1.3.9", Duration: 5 * time.Millisecond},
		"simulated-failures": {Status: checklist.Pass, Summary: `INC-7 "failover rehearsal", a drill declared by ana on 2026-10-01 (53 days ago)`, Duration: time.Millisecond},
	}
	records := []checklist.Record{
		{Kind: checklist.RecordWaiver, Checklist: "prod", Check: "structured-logging", Service: "matchmaking", Status: checklist.Waived, By: "ana",
			At: t0.Add(-day), Expires: t0.Add(10 * day), Text: "the logger migration lands next sprint | PLAT-12"},
		{Kind: checklist.RecordAttestation, Checklist: "prod", Check: "credentials-rotation", Service: "matchmaking", Status: checklist.Pass, By: "ben",
			At: t0.Add(-2 * day), Expires: t0.Add(178 * day), Text: "vault paths and the rotation runbook", EvidenceURL: "https://wiki.example.com/mm/creds"},
		{Kind: checklist.RecordResult, Checklist: "prod", Check: "security-audit", Service: "matchmaking", Status: checklist.Pass, By: "ci",
			At: t0.Add(-3 * day), Expires: t0.Add(362 * day), Text: "SEC-42 opened", EvidenceURL: "https://jira.example.com/SEC-42", Source: "security-ci"},
		{Kind: checklist.RecordAttestation, Checklist: "prod", Check: "lifecycle-board", Service: "matchmaking", Status: checklist.NA, By: "cai",
			At: t0.Add(-day), Expires: t0.Add(100 * day), Text: "internal tool: not on the board", EvidenceURL: "https://board.example.com/x"},
	}
	run := checklist.Evaluate(cl, svc, "silver", "tier 2", probed, records, t0)
	run.ID, run.By = 12, "ana"
	return run
}

// Every format's report of the fixture equals its golden file.
func TestGoldenReports(t *testing.T) {
	run := fixture()
	for format, file := range map[string]string{"text": "run.txt", "json": "run.json", "junit": "run.junit.xml", "sarif": "run.sarif.json", "markdown": "run.md"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, format, run); err != nil {
				t.Fatal(err)
			}
			golden.File(t, file, b.Bytes())
		})
	}
	if err := Write(&bytes.Buffer{}, "yaml", run); err == nil || !strings.Contains(err.Error(), "text, json, junit, sarif, markdown") {
		t.Errorf("an unknown format: %v", err)
	}
}

// The JSON report reads back as the run.
func TestJSONReadsBack(t *testing.T) {
	run := fixture()
	var b bytes.Buffer
	JSON(&b, run)
	var back checklist.Run
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Outcome != run.Outcome || len(back.Results) != 10 || back.Results[0].Links[3].Status != checklist.Fail || !back.At.Equal(t0) {
		t.Errorf("read back %+v", back)
	}
}

// The text report says what blocks the level.
func TestTextVerdict(t *testing.T) {
	var b bytes.Buffer
	Text(&b, fixture())
	for _, want := range []string{"silver required (tier 2): FAIL, achieved no level", "blocking: alerts-a-human (fail), ops-docs (error), launch-email (not reported)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

// junitCase is a testcase as the JUnit XML schema (Jenkins' junit.xsd, the
// de facto standard) defines it.
type junitDoc struct {
	XMLName xml.Name   `xml:"testsuites"`
	Attrs   []xml.Attr `xml:",any,attr"`
	Suites  []struct {
		Attrs      []xml.Attr `xml:",any,attr"`
		Properties []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Attrs   []xml.Attr `xml:",any,attr"`
			Failure []struct {
				Attrs []xml.Attr `xml:",any,attr"`
				Text  string     `xml:",chardata"`
			} `xml:"failure"`
			Error []struct {
				Attrs []xml.Attr `xml:",any,attr"`
			} `xml:"error"`
			Skipped []struct {
				Attrs []xml.Attr `xml:",any,attr"`
			} `xml:"skipped"`
			Other []xml.Name `xml:",any"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func attrs(as []xml.Attr) map[string]string {
	m := map[string]string{}
	for _, a := range as {
		m[a.Name.Local] = a.Value
	}
	return m
}

var (
	decimalRE   = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`)
)

// validateJUnit checks the report against the JUnit schema's rules: the
// elements and their required attributes, the counts, at most one
// failure, error or skipped per testcase, the types of numbers and
// timestamps. It returns the problems found.
func validateJUnit(b []byte) []string {
	var doc junitDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		return []string{"not XML of <testsuites>: " + err.Error()}
	}
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	num := func(where string, m map[string]string, name string, required bool) int {
		v, ok := m[name]
		if !ok {
			if required {
				bad("%s: no %s attribute", where, name)
			}
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad("%s: %s=%q is not a count", where, name, v)
		}
		return n
	}
	if len(doc.Suites) == 0 {
		bad("no testsuite")
	}
	root := attrs(doc.Attrs)
	var tests, failures, errors, skipped int
	for i, s := range doc.Suites {
		a := attrs(s.Attrs)
		where := fmt.Sprintf("testsuite[%d]", i)
		if a["name"] == "" {
			bad("%s: no name", where)
		}
		n := num(where, a, "tests", true)
		f, e, sk := num(where, a, "failures", true), num(where, a, "errors", true), num(where, a, "skipped", false)
		if t, ok := a["time"]; ok && !decimalRE.MatchString(t) {
			bad("%s: time=%q is not a decimal", where, t)
		}
		if ts, ok := a["timestamp"]; ok && !timestampRE.MatchString(ts) {
			bad("%s: timestamp=%q is not an ISO 8601 date-time without a zone", where, ts)
		}
		for _, p := range s.Properties {
			if pa := attrs(p.Attrs); pa["name"] == "" {
				bad("%s: a property without a name", where)
			} else if _, ok := pa["value"]; !ok {
				bad("%s: property %s without a value", where, pa["name"])
			}
		}
		var cf, ce, cs int
		for j, c := range s.Cases {
			ca := attrs(c.Attrs)
			cw := fmt.Sprintf("%s.testcase[%d]", where, j)
			if ca["name"] == "" || ca["classname"] == "" {
				bad("%s: name and classname are required", cw)
			}
			if t, ok := ca["time"]; ok && !decimalRE.MatchString(t) {
				bad("%s: time=%q is not a decimal", cw, t)
			}
			if k := len(c.Failure) + len(c.Error) + len(c.Skipped); k > 1 {
				bad("%s: %d of failure, error and skipped: at most one", cw, k)
			}
			for _, fl := range c.Failure {
				if attrs(fl.Attrs)["message"] == "" {
					bad("%s: a failure without a message", cw)
				}
			}
			for _, o := range c.Other {
				if !slices.Contains([]string{"failure", "error", "skipped", "system-out", "system-err"}, o.Local) {
					bad("%s: unknown element <%s>", cw, o.Local)
				}
			}
			cf, ce, cs = cf+len(c.Failure), ce+len(c.Error), cs+len(c.Skipped)
		}
		if n != len(s.Cases) || f != cf || e != ce || sk != cs {
			bad("%s: counts tests=%d failures=%d errors=%d skipped=%d, but it holds %d cases, %d failures, %d errors, %d skipped", where, n, f, e, sk, len(s.Cases), cf, ce, cs)
		}
		tests, failures, errors, skipped = tests+n, failures+f, errors+e, skipped+sk
	}
	if num("testsuites", root, "tests", false) != tests || num("testsuites", root, "failures", false) != failures ||
		num("testsuites", root, "errors", false) != errors || num("testsuites", root, "skipped", false) != skipped {
		bad("testsuites: its counts are not the sum of its suites'")
	}
	return probs
}

// validateSARIF checks a log against SARIF 2.1.0's required properties and
// constraints: version and $schema; each run's tool.driver.name; rules
// with unique ids; results with a ruleId naming a rule (ruleIndex
// pointing at it), a level and kind from the standard's sets (a result
// whose kind is not fail has level none), message.text, locations with an
// artifact URI and lines from 1, suppressions of a known kind and status;
// invocations saying whether execution succeeded.
func validateSARIF(b []byte) []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	var log map[string]any
	if err := json.Unmarshal(b, &log); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	if log["version"] != "2.1.0" {
		bad("version %v, want 2.1.0", log["version"])
	}
	if s, _ := log["$schema"].(string); s == "" {
		bad("no $schema")
	} else if u, err := url.Parse(s); err != nil || !u.IsAbs() {
		bad("$schema %q is not an absolute URI", s)
	}
	runs, _ := log["runs"].([]any)
	if len(runs) == 0 {
		bad("runs: want at least one")
	}
	obj := func(v any, path ...string) map[string]any {
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		m, _ := v.(map[string]any)
		return m
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	for ri, r := range runs {
		run, _ := r.(map[string]any)
		driver := obj(run, "tool", "driver")
		if str(driver, "name") == "" {
			bad("runs[%d].tool.driver.name is required", ri)
		}
		rules, _ := driver["rules"].([]any)
		var ids []string
		for i, rl := range rules {
			rule, _ := rl.(map[string]any)
			id := str(rule, "id")
			if id == "" || slices.Contains(ids, id) {
				bad("rules[%d]: id %q missing or not unique", i, id)
			}
			ids = append(ids, id)
			if sd := obj(rule, "shortDescription"); sd != nil && str(sd, "text") == "" {
				bad("rules[%d].shortDescription.text is required", i)
			}
		}
		results, ok := run["results"].([]any)
		if !ok {
			bad("runs[%d].results: want an array", ri)
		}
		for i, x := range results {
			res, _ := x.(map[string]any)
			where := fmt.Sprintf("runs[%d].results[%d]", ri, i)
			id := str(res, "ruleId")
			if !slices.Contains(ids, id) {
				bad("%s: ruleId %q names no rule", where, id)
			}
			if ix, ok := res["ruleIndex"].(float64); ok && (int(ix) >= len(ids) || ids[int(ix)] != id) {
				bad("%s: ruleIndex %v is not rule %q", where, ix, id)
			}
			level, kind := str(res, "level"), str(res, "kind")
			if !slices.Contains([]string{"none", "note", "warning", "error"}, level) {
				bad("%s: level %q", where, level)
			}
			if !slices.Contains([]string{"notApplicable", "pass", "fail", "review", "open", "informational"}, kind) {
				bad("%s: kind %q", where, kind)
			}
			if kind != "fail" && level != "none" {
				bad("%s: kind %s with level %s: a result that does not fail has level none", where, kind, level)
			}
			if str(obj(res, "message"), "text") == "" {
				bad("%s: message.text is required", where)
			}
			locs, _ := res["locations"].([]any)
			if len(locs) == 0 {
				bad("%s: no locations", where)
			}
			for j, l := range locs {
				loc, _ := l.(map[string]any)
				art := obj(loc, "physicalLocation", "artifactLocation")
				if _, err := url.Parse(str(art, "uri")); str(art, "uri") == "" || err != nil {
					bad("%s.locations[%d]: artifactLocation.uri %q is not a URI reference", where, j, str(art, "uri"))
				}
				if reg := obj(loc, "physicalLocation", "region"); reg != nil {
					if line, _ := reg["startLine"].(float64); line < 1 {
						bad("%s.locations[%d]: region.startLine %v: lines start at 1", where, j, reg["startLine"])
					}
				}
				for _, ll := range loc["logicalLocations"].([]any) {
					if str(ll.(map[string]any), "name") == "" {
						bad("%s.locations[%d]: a logical location without a name", where, j)
					}
				}
			}
			sups, _ := res["suppressions"].([]any)
			for _, s := range sups {
				sup, _ := s.(map[string]any)
				if !slices.Contains([]string{"inSource", "external"}, str(sup, "kind")) || !slices.Contains([]string{"", "accepted", "underReview", "rejected"}, str(sup, "status")) {
					bad("%s: suppression %v", where, sup)
				}
			}
		}
		invs, _ := run["invocations"].([]any)
		for i, iv := range invs {
			inv, _ := iv.(map[string]any)
			if _, ok := inv["executionSuccessful"].(bool); !ok {
				bad("runs[%d].invocations[%d].executionSuccessful is required", ri, i)
			}
			notes, _ := inv["toolExecutionNotifications"].([]any)
			for _, n := range notes {
				if str(obj(n, "message"), "text") == "" {
					bad("runs[%d].invocations[%d]: a notification without message.text", ri, i)
				}
			}
		}
	}
	return probs
}

// The JUnit and SARIF reports pass their schemas' rules, and say what
// the run says: failures for the required checks that fail, an error for
// the probe that could not run, suppressions for waivers.
func TestReportsMeetTheirSchemas(t *testing.T) {
	run := fixture()
	var j, s bytes.Buffer
	JUnit(&j, run)
	SARIF(&s, run)
	if p := validateJUnit(j.Bytes()); len(p) > 0 {
		t.Errorf("JUnit:\n%s", strings.Join(p, "\n"))
	}
	if p := validateSARIF(s.Bytes()); len(p) > 0 {
		t.Errorf("SARIF:\n%s", strings.Join(p, "\n"))
	}
	for _, want := range []string{`failures="2" errors="1" skipped="3"`, `<error message="error: could not fetch the runbook`} {
		if !strings.Contains(j.String(), want) {
			t.Errorf("JUnit lacks %s", want)
		}
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID, Kind, Level string
				Suppressions        []struct{ Justification string }
			}
			Invocations []struct{ ExecutionSuccessful bool }
		}
	}
	json.Unmarshal(s.Bytes(), &log)
	got := map[string]string{}
	for _, r := range log.Runs[0].Results {
		got[r.RuleID] = r.Kind + "/" + r.Level
		if r.RuleID == "structured-logging" && (len(r.Suppressions) != 1 || !strings.Contains(r.Suppressions[0].Justification, "PLAT-12")) {
			t.Errorf("the waiver is not a suppression: %+v", r)
		}
	}
	want := map[string]string{"alerts-a-human": "fail/error", "enforces-ssl": "fail/warning", "ops-docs": "open/none", "launch-email": "fail/error",
		"lifecycle-board": "notApplicable/none", "structured-logging": "fail/error", "security-audit": "pass/none", "credentials-rotation": "pass/none",
		"staging-parity": "fail/warning", "simulated-failures": "pass/none"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %s, want %s", id, got[id], w)
		}
	}
	if log.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Error("a probe could not run: executionSuccessful must be false")
	}
}

// The validators are not vacuous: broken documents fail them.
func TestValidatorsCatchBrokenReports(t *testing.T) {
	for name, doc := range map[string]string{
		"counts":     `<testsuites tests="1"><testsuite name="s" tests="2" failures="0" errors="0"><testcase name="a" classname="c"/></testsuite></testsuites>`,
		"classname":  `<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"/></testsuite></testsuites>`,
		"two":        `<testsuites><testsuite name="s" tests="1" failures="1" errors="1"><testcase name="a" classname="c"><failure message="m"/><error/></testcase></testsuite></testsuites>`,
		"time":       `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="soon"></testsuite></testsuites>`,
		"no message": `<testsuites><testsuite name="s" tests="1" failures="1" errors="0"><testcase name="a" classname="c"><failure/></testcase></testsuite></testsuites>`,
	} {
		if p := validateJUnit([]byte(doc)); len(p) == 0 {
			t.Errorf("JUnit %s: accepted", name)
		}
	}
	base := func(result string) string {
		return `{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"tool":{"driver":{"name":"x","rules":[{"id":"a"}]}},"results":[` + result + `]}]}`
	}
	loc := `"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.yaml"}},"logicalLocations":[{"name":"s"}]}]`
	if p := validateSARIF([]byte(base(`{"ruleId":"a","kind":"pass","level":"none","message":{"text":"ok"},` + loc + `}`))); len(p) > 0 {
		t.Errorf("a good SARIF log fails: %v", p)
	}
	for name, doc := range map[string]string{
		"version":    strings.Replace(base(""), "2.1.0", "2.0.0", 1),
		"rule":       base(`{"ruleId":"b","kind":"fail","level":"error","message":{"text":"x"},` + loc + `}`),
		"level":      base(`{"ruleId":"a","kind":"pass","level":"error","message":{"text":"x"},` + loc + `}`),
		"message":    base(`{"ruleId":"a","kind":"fail","level":"error","message":{},` + loc + `}`),
		"locations":  base(`{"ruleId":"a","kind":"fail","level":"error","message":{"text":"x"},"locations":[]}`),
		"start line": base(`{"ruleId":"a","kind":"fail","level":"error","message":{"text":"x"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}},"logicalLocations":[]}]}`),
		"driver":     strings.Replace(base(""), `"name":"x"`, `"name":""`, 1),
	} {
		if p := validateSARIF([]byte(doc)); len(p) == 0 {
			t.Errorf("SARIF %s: accepted", name)
		}
	}
}

// The progress view shows a spinner for running probes, the result for
// finished ones, and redraws in place.
func TestProgress(t *testing.T) {
	cl := checklist.Builtin()[0]
	p := NewProgress(cl)
	p.Event(checklist.Event{Check: "enforces-ssl"})
	p.Event(checklist.Event{Check: "ops-docs"})
	p.Event(checklist.Event{Check: "ops-docs", Done: true, Result: checklist.Result{Status: checklist.Pass, Summary: "3 command blocks", Duration: 1500 * time.Microsecond}})
	f := p.Frame(1)
	lines := strings.Split(strings.TrimSuffix(f, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("want a line per probe check (6):\n%s", f)
	}
	for _, want := range []string{"⠙       enforces-ssl", "pass    ops-docs            3 command blocks (2ms)", "·       alerts-a-human"} {
		if !strings.Contains(f, want) {
			t.Errorf("frame lacks %q:\n%s", want, f)
		}
	}
	first := p.Redraw(0)
	second := p.Redraw(1)
	if strings.Contains(first, "\x1b[6A") || !strings.HasPrefix(second, "\x1b[6A") {
		t.Errorf("the second frame goes back up over the first: %q / %q", first[:10], second[:10])
	}
	if c := p.Clear(); c != "\x1b[6A\x1b[J" || p.Clear() != "" {
		t.Errorf("clear: %q", c)
	}
}
