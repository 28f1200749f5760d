package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/oncallhq/oncall/"

// rules are the dependency rule of docs/architecture.md: packages matching
// from must not import packages matching any of not ("x/..." is x and
// everything under it).
var rules = []struct {
	from string
	not  []string
	why  string
}{
	{"alerts/...", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/...", "notify/...", "routing/..."}, "the rule engine is a domain package"},
	{"routing/...", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/...", "notify/..."}, "routing is a domain package"},
	{"incidents/...", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/...", "notify/..."}, "incidents are domain packages: they declare incidents.Tx rather than import the store"},
	{"catalog", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "the catalogue is a domain package"},
	{"statuspage", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "the status page is built from domain values"},
	{"checklist", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/...", "notify/...", "checklist/probe"}, "the checklist is a domain package: probes do the I/O behind checklist.Prober"},
	{"checklist/report", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "reports are written from a run"},
	{"checklist/announce", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "the launch email is composed from a run"},
	{"checklist/probe", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "probes read oncall's rules, routes and schedules as values"},
	{"postmortem", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "postmortems read the store through their own interfaces (postmortem/storedata adapts it)"},
	{"postmortem/review", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "the review reads the store through its own interfaces"},
	{"postmortem/textchart", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/..."}, "charts for documents draw values"},
	{"notify/...", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/...", "slackbot"}, "notifiers deliver outbox messages: they know neither the pipeline nor the store"},
	{"slackbot", []string{"app", "server", "pipeline", "store/...", "client", "tui/...", "cmd/...", "notify/..."}, "the Slack bot is a client of the domain: it reads and writes through its own small interfaces"},
	{"server", []string{"pipeline", "app", "store/sqlite", "client", "tui/...", "cmd/...", "slackbot"}, "the server gets the pipeline through server.Pipeline and the store through its interfaces"},
	{"pipeline", []string{"server", "app", "client", "tui/...", "store/sqlite", "cmd/..."}, "the pipeline sees the store through its interfaces"},
	{"store", []string{"store/sqlite", "pipeline", "server", "app", "client", "tui/..."}, "store holds interfaces only"},
	{"tui/...", []string{"server", "app", "store/...", "pipeline", "client", "notify/...", "cmd/...", "slackbot"}, "the console gets domain values through tui.Backend only"},
	{"...", []string{"cmd/..."}, "nothing imports a command"},
}

// importsOf lists every package of the module (tests excluded) with the
// module packages it imports.
func importsOf(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	pkgs := map[string][]string{}
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				pkgs[name] = append(pkgs[name], strings.TrimPrefix(imp, module))
			}
		}
		if _, ok := pkgs[name]; !ok {
			pkgs[name] = nil
		}
	}
	return pkgs
}

// matches reports whether pkg is pattern, or under it for "x/...".
func matches(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// violations lists the imports of pkgs that break the rules.
func violations(pkgs map[string][]string) []string {
	var out []string
	for pkg, imps := range pkgs {
		for _, r := range rules {
			if !matches(r.from, pkg) || strings.HasPrefix(pkg, "cmd/") && r.from == "..." {
				continue
			}
			for _, imp := range imps {
				for _, not := range r.not {
					if matches(not, imp) && !matches(r.from, imp) {
						out = append(out, pkg+" imports "+imp+": "+r.why)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestDependencyRule(t *testing.T) {
	pkgs := importsOf(t)
	if len(pkgs) < 20 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Errorf("%s (docs/architecture.md, the dependency rule)", v)
	}
}

// The rules catch what they forbid and allow what they do not.
func TestRulesCatchViolations(t *testing.T) {
	got := violations(map[string][]string{
		"pipeline":       {"server", "routing/dispatch"},
		"tui/alertspane": {"client", "tui/state"},
		"incidents":      {"incidents/schedule", "store"},
		"server":         {"store", "alerts"},
		"cmd/oncall":     {"app"},
	})
	want := []string{
		"incidents imports store: incidents are domain packages: they declare incidents.Tx rather than import the store",
		"pipeline imports server: the pipeline sees the store through its interfaces",
		"tui/alertspane imports client: the console gets domain values through tui.Backend only",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The app is wired by commands only.
func TestOnlyCommandsImportTheApp(t *testing.T) {
	for pkg, imps := range importsOf(t) {
		for _, imp := range imps {
			if imp == "app" && !strings.HasPrefix(pkg, "cmd/") && path.Dir(pkg) != "app" {
				t.Errorf("%s imports app: only cmd/oncall wires oncall together", pkg)
			}
		}
	}
}
