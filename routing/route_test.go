package routing

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/internal/testenv"
)

// The routing tree matches exactly as Alertmanager's does: for each label
// set, the receivers oncall picks equal what `amtool config routes test`
// (Alertmanager 0.25) prints for the same file.
func TestRoutesMatchAmtool(t *testing.T) {
	amtool := testenv.RequireTool(t, "amtool", "prometheus-alertmanager")
	file := filepath.Join("testdata", "tree.yml")
	c, err := LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"alertname", "X"},
		{"severity", "page"},
		{"severity", "critical", "team", "db"},
		{"severity", "page", "team", "db", "service", "api"},
		{"service", "api", "env", "dev"},
		{"service", "api", "env", "prod"},
		{"service", "api"},
		{"service", "checkout", "severity", "ticket"},
		{"service", "checkout", "severity", "ticket", "team", "payments"},
		{"team", "payments", "env", "staging"},
		{"team", "payments", "region", "eu-west-1"},
		{"severity", "warning", "team", "db"},
	}
	for _, kv := range cases {
		ls := labels.FromStrings(kv...)
		var got []string
		for _, r := range c.Root.Match(ls) {
			got = append(got, r.Receiver)
		}
		args := []string{"config", "routes", "test", "--config.file=" + file}
		for i := 0; i < len(kv); i += 2 {
			args = append(args, kv[i]+"="+kv[i+1])
		}
		out, err := exec.Command(amtool, args...).Output()
		if err != nil {
			t.Fatalf("amtool %v: %v", args, err)
		}
		if want := strings.TrimSpace(string(out)); strings.Join(got, ",") != want {
			t.Errorf("%v: oncall routes to %q, amtool to %q", ls, strings.Join(got, ","), want)
		}
	}
}

func TestGroupLabelsAndKey(t *testing.T) {
	c, err := LoadFile(filepath.Join("testdata", "tree.yml"))
	if err != nil {
		t.Fatal(err)
	}
	ls := labels.FromStrings("alertname", "DiskFull", "service", "api", "env", "prod", "instance", "a")
	rs := c.Root.Match(ls)
	if len(rs) != 1 {
		t.Fatalf("routes %v", rs)
	}
	gl := rs[0].GroupLabels(ls)
	if got, want := rs[0].GroupKey(gl), `{}/{env!="dev",service="api"}:{alertname="DiskFull", service="api"}`; got != want {
		t.Errorf("group key %s, want %s", got, want)
	}
}
