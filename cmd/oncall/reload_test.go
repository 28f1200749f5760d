package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts"
)

const reloadRules = `groups:
  - name: a
    rules:
      - alert: AlwaysA
        expr: vector(1)
  - name: b
    rules:
      - alert: AlwaysB
        expr: vector(1)
`

// `oncall serve` reads its rule files again when they change and on
// SIGHUP: a broken group keeps running as it was and raises
// OncallRuleFilesInvalid, its neighbour takes its edit, a fix ends it.
// A broken group at start does not stop the others either.
func TestServeReloadsRuleFiles(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	broken := strings.Replace(reloadRules, "        expr: vector(1)\n", "        expr: vector(1\n", 2)
	broken = strings.Replace(broken, "        expr: vector(1\n", "        expr: vector(1)\n", 1) // only b broken
	os.WriteFile(rules, []byte(broken), 0o600)
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir: %s\nserver: {listen: %q}\nalerts: {rule_files: [rules.yml], evaluation_interval: 1s}\n", filepath.Join(dir, "state"), addr)), 0o600)
	cmd := startProcess(t, dir, binary(t), "serve", "--config", cfg)
	base := "http://" + addr
	eventually(t, 20*time.Second, "oncall serving", func() bool { return readiness(base).Role == "leader" })
	firing := func() []string {
		var as []alerts.Alert
		getJSON(t, base+"/api/v1/alerts", &as)
		var out []string
		for _, a := range as {
			if a.Status.State == alerts.StateFiring {
				out = append(out, a.Name())
			}
		}
		slices.Sort(out)
		return out
	}
	rulesNamed := func() []string {
		var rs []alerts.Rule
		getJSON(t, base+"/api/v1/rules", &rs)
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	eventually(t, 30*time.Second, "group a firing beside the broken b, and the meta-alert", func() bool {
		return slices.Equal(firing(), []string{"AlwaysA", "OncallRuleFilesInvalid"})
	})
	// Fixed, with a rule more in a: both groups run, the meta-alert resolves.
	os.WriteFile(rules, []byte(strings.Replace(reloadRules, "  - name: b\n", "      - alert: NewA\n        expr: vector(2)\n  - name: b\n", 1)), 0o600)
	eventually(t, 30*time.Second, "the fixed file in effect", func() bool {
		return slices.Equal(firing(), []string{"AlwaysA", "AlwaysB", "NewA"})
	})
	// b breaks again: it keeps firing as it was; a drops NewA.
	os.WriteFile(rules, []byte(broken), 0o600)
	eventually(t, 30*time.Second, "the last good b kept", func() bool {
		return slices.Equal(firing(), []string{"AlwaysA", "AlwaysB", "OncallRuleFilesInvalid"}) && !slices.Contains(rulesNamed(), "NewA")
	})
	// SIGHUP reads the files at once and says so.
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "SIGHUP logged", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "oncall.log"))
		return strings.Contains(string(b), "SIGHUP: reloading the rule files") && strings.Contains(string(b), `rule file does not load`)
	})
}
