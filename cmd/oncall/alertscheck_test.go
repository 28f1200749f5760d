package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts/lint"
)

const lintData = "../../alerts/lint/testdata/"

// noServerConfig is a configuration naming no server and no Prometheus,
// so that nothing on the machine answers the series checks.
func noServerConfig(t *testing.T, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "oncall.yaml")
	if err := os.WriteFile(path, []byte("server: {listen: \"127.0.0.1:0\"}\n"+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The exit status tells a CI job what happened: 0 clean (or warnings), 1
// errors (or warnings with --strict), 2 the files could not be checked.
func TestAlertsCheckExitStatus(t *testing.T) {
	cfg := noServerConfig(t, "")
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string // in stdout
		err  []string // in stderr
	}{
		{"clean", []string{lintData + "checks/OC101_ok.yml"}, 0, []string{"no problems in 2 rules of 1 file", "skipped OC301, OC302, OC303: --offline"}, nil},
		{"warnings", []string{lintData + "checks/OC506.yml"}, 0, []string{"OC506", "warning", "0 errors, 1 warning"}, nil},
		{"warnings strict", []string{"--strict", lintData + "checks/OC506.yml"}, 1, []string{"OC506"}, nil},
		{"warnings disabled strict", []string{"--strict", "--disable", "OC506", lintData + "checks/OC506.yml"}, 0, []string{"no problems"}, nil},
		{"errors", []string{lintData + "mixed.yml", lintData + "mixed_other.yml"}, 1,
			[]string{"LOCATION", lintData + "mixed.yml:23", "OC201", lintData + "mixed_other.yml:5", "OC401", "in 8 rules of 2 files"}, nil},
		{"parse error", []string{lintData + "checks/OC101_ok.yml", "../../alerts/testdata/bad.rules.yml"}, 2, nil,
			[]string{`oncall: ../../alerts/testdata/bad.rules.yml:7: group "broken", rule 2, "BadExpr": could not parse expression`}},
		{"missing file", []string{lintData + "no-such.yml"}, 2, nil, []string{"no-such.yml: no such file"}},
		{"unknown check", []string{"--disable", "OC999", lintData + "checks/OC101_ok.yml"}, 1, nil, []string{`--disable "OC999": no such check`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := run(t, nil, append([]string{"alerts", "check", "--config", cfg, "--offline"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, stderr)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// -o json is the lint.Report: it parses, and its summary counts its
// findings.
func TestAlertsCheckJSON(t *testing.T) {
	code, out, stderr := run(t, nil, "alerts", "check", "--config", noServerConfig(t, ""), "--offline", "-o", "json", lintData+"mixed.yml")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var rep lint.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var ids []string
	errs, warns := 0, 0
	for _, f := range rep.Findings {
		ids = append(ids, f.ID)
		if f.File != lintData+"mixed.yml" || f.Line == 0 || f.Rule == "" || f.Group == "" || f.Message == "" || f.Hint == "" || f.Check == "" {
			t.Errorf("incomplete finding %+v", f)
		}
		switch f.Severity {
		case lint.SeverityError:
			errs++
		case lint.SeverityWarning:
			warns++
		default:
			t.Errorf("severity %q", f.Severity)
		}
	}
	if !slices.Contains(ids, lint.PerEvaluationLabel) || !slices.Contains(ids, lint.CountComparedWithZero) {
		t.Errorf("ids %v", ids)
	}
	s := rep.Summary
	if s.Errors != errs || s.Warnings != warns || s.Files != 1 || s.Rules != 7 || len(s.Skipped) != 1 || s.Skipped[0].Reason != "--offline" {
		t.Errorf("summary %+v (counted %d errors, %d warnings)", s, errs, warns)
	}
}

// Without FILE arguments, the configuration's rule files are checked; with
// no server and no Prometheus the series checks are skipped, saying why,
// and the intervals come from the configuration unless flags say
// otherwise.
func TestAlertsCheckConfiguredFiles(t *testing.T) {
	data, err := filepath.Abs(lintData)
	if err != nil {
		t.Fatal(err)
	}
	cfg := noServerConfig(t, fmt.Sprintf("alerts: {rule_files: [%q, %q], evaluation_interval: 1m}\n", data+"/checks/OC403.y*l", data+"/mixed_other.yml"))
	code, out, stderr := run(t, nil, "alerts", "check", "--config", cfg, "--strict")
	if code != 1 || strings.Count(out, " OC403 ") != 2 || !strings.Contains(out, "in 3 rules of 2 files") ||
		!strings.Contains(out, "skipped OC301, OC302, OC303: no oncall server; metrics.prometheus.url is not set") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	// With 10s, only the group of its own (2m) interval is too slow for its for.
	code, out, stderr = run(t, nil, "alerts", "check", "--config", cfg, "--strict", "--offline", "--evaluation-interval", "10s")
	if code != 1 || strings.Count(out, " OC403 ") != 1 || !hasRow(out, "OC403.yml:8", "OC403") {
		t.Errorf("--evaluation-interval 10s: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := run(t, nil, "alerts", "check", "--config", noServerConfig(t, "")); code != 2 || !strings.Contains(stderr, "no rule files") {
		t.Errorf("nothing to check: exit %d\n%s", code, stderr)
	}
}

// Against a running oncall serve (its embedded scraper and TSDB), the
// series checks run through the server's query API.
func TestAlertsCheckAgainstServer(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE checkout_healthy gauge\ncheckout_healthy{service=\"checkout\",zone=\"a\"} 1\ncheckout_healthy{service=\"checkout\",zone=\"b\"} 1\n")
	}))
	defer target.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("state_dir: %s\nserver: {listen: %q}\nmetrics:\n  scrape: {interval: 200ms, targets: [{job: checkout, url: %q}]}\n",
		filepath.Join(dir, "state"), addr, target.URL+"/metrics")), 0o600)
	rules := filepath.Join(dir, "rules.yml")
	os.WriteFile(rules, []byte(`groups:
  - name: checkout
    rules:
      - alert: CheckoutUnhealthy
        expr: checkout_healthy == 0
        for: 1m
        labels: {severity: ticket}
      - alert: CheckoutTypo
        expr: checkout_healty == 0
        for: 1m
        labels: {severity: ticket}
      - alert: CheckoutZoneC
        expr: checkout_healthy{zone="c"} == 0
        for: 1m
        labels: {severity: ticket}
`), 0o600)
	srv := exec.Command(binary(t), "serve", "--config", cfgPath, "--log-level", "warn")
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	eventually(t, 30*time.Second, "the target scraped", func() bool {
		code, out, _ := run(t, nil, "query", "checkout_healthy", "--server", "http://"+addr)
		return code == 0 && strings.Contains(out, `zone="b"`)
	})
	code, out, stderr := run(t, nil, "alerts", "check", "--config", cfgPath, "--max-series", "1", rules)
	if code != 1 || !hasRow(out, "rules.yml:9", "OC301", "error", "no series named checkout_healty") ||
		!hasRow(out, "rules.yml:13", "OC302", "warning", `checkout_healthy has 2 series, none with zone="c"`) ||
		!hasRow(out, "rules.yml:5", "OC303", "warning", "touches 2 series at the source, more than 1") ||
		!strings.Contains(out, "series checked at oncall server http://"+addr) || strings.Count(out, "\n") != 6 {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	if strings.Contains(out, "skipped") {
		t.Errorf("source checks skipped:\n%s", out)
	}
}

// hasRow reports whether a line of the table holds all of cells.
func hasRow(out string, cells ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, c := range cells {
			all = all && strings.Contains(line, c)
		}
		if all {
			return true
		}
	}
	return false
}
