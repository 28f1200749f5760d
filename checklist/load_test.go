package checklist

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The built-in prod checklist is Heroku's ten checks with stable ids,
// each with a category, a level, a rationale and a remediation.
func TestBuiltinProd(t *testing.T) {
	cls := Builtin()
	if len(cls) != 1 || cls[0].Name != "prod" {
		t.Fatalf("built-in checklists: %+v", cls)
	}
	cl := cls[0]
	want := []string{"alerts-a-human", "enforces-ssl", "ops-docs", "launch-email", "lifecycle-board", "structured-logging",
		"security-audit", "credentials-rotation", "staging-parity", "simulated-failures"}
	if got := cl.IDs(); !slices.Equal(got, want) {
		t.Errorf("ids %v, want %v (ids are stable: records name checks by them)", got, want)
	}
	probes := map[string]string{"alerts-a-human": ProbeAlerts, "enforces-ssl": ProbeTLS, "ops-docs": ProbeRunbook,
		"structured-logging": ProbeLogging, "staging-parity": ProbeStaging, "simulated-failures": ProbeDrill}
	for _, c := range cl.Checks {
		if c.Category == "" || c.Rationale == "" || c.Remediation == "" || cl.Rank(c.Level) < 0 || c.Line == 0 {
			t.Errorf("%s lacks a category, rationale, remediation, level or line: %+v", c.ID, c)
		}
		if p, ok := probes[c.ID]; ok != (c.Kind == KindProbe) || c.Probe != p {
			t.Errorf("%s: kind %s probe %q, want probe %q", c.ID, c.Kind, c.Probe, p)
		}
	}
	if c, _ := cl.Check("simulated-failures"); !c.Attestable || c.Evidence != EvidenceRequired {
		t.Errorf("simulated-failures takes an attestation with evidence until drills are recorded: %+v", c)
	}
	if c, _ := cl.Check("security-audit"); c.Kind != KindExternal {
		t.Errorf("security-audit is pushed by a CI job: %s", c.Kind)
	}
	if cl.Tiers[1] != "gold" || cl.Tiers[2] != "silver" || cl.Tiers[3] != "bronze" || cl.DefaultLevel != "bronze" {
		t.Errorf("tiers %v default %s", cl.Tiers, cl.DefaultLevel)
	}
}

// A checklist written by YAML reads back the same.
func TestYAMLRoundTrip(t *testing.T) {
	cl := Builtin()[0]
	b, err := cl.YAML()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("again.yaml", b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !slices.Equal(back.IDs(), cl.IDs()) || !slices.Equal(back.Levels, cl.Levels) || back.Tiers[1] != "gold" || back.Title != cl.Title {
		t.Errorf("read back %+v", back)
	}
	for i, c := range back.Checks {
		o := cl.Checks[i]
		if c.Kind != o.Kind || c.Probe != o.Probe || c.Level != o.Level || c.ValidFor != o.ValidFor || c.Attestable != o.Attestable ||
			c.Evidence != o.Evidence || c.Rationale != o.Rationale || c.Params["days"] != o.Params["days"] {
			t.Errorf("check %s: %+v, want %+v", c.ID, c, o)
		}
	}
}

// Every problem of a malformed file names the file, the line and the
// field.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"syntax", "name: x\nchecks: [\n", []string{"bad.yaml:2: syntax: "}},
		{"empty", "", []string{"bad.yaml:1: empty file"}},
		{"unknown top field", "name: x\nlevel: [a]\nchecks: [{id: a, title: A}]\n", []string{`bad.yaml:2: level: unknown field; did you mean "levels"?`}},
		{"no name, no checks", "title: x\n", []string{"bad.yaml:1: name: missing", "bad.yaml:1: checks: missing"}},
		{"bad name", "name: Prod Ready\nchecks: [{id: a, title: A}]\n", []string{`bad.yaml:1: name: "Prod Ready": a checklist name is lower-case`}},
		{"level not a level", "name: x\nlevels: [low, high]\nchecks:\n  - {id: a, title: A, level: gold}\n", []string{`bad.yaml:4: checks[0].level: "gold" is not one of the levels (low, high)`}},
		{"unknown probe", "name: x\nchecks:\n  - id: a\n    title: A\n    probe: tsl\n", []string{`bad.yaml:5: checks[0].probe: unknown probe "tsl"; did you mean "tls"?`}},
		{"probe kind without probe", "name: x\nchecks:\n  - {id: a, title: A, kind: probe}\n", []string{"bad.yaml:3: checks[0].probe: missing"}},
		{"duplicate id", "name: x\nchecks:\n  - {id: a, title: A}\n  - {id: a, title: B}\n", []string{`bad.yaml:4: checks[1].id: "a" is also the id of checks[0]`}},
		{"missing id and title", "name: x\nchecks:\n  - {category: c}\n", []string{"bad.yaml:3: checks[0].id: missing", "bad.yaml:3: checks[0].title: missing"}},
		{"bad id", "name: x\nchecks:\n  - {id: Has Space, title: A}\n", []string{`bad.yaml:3: checks[0].id: "Has Space"`}},
		{"bad kind", "name: x\nchecks:\n  - {id: a, title: A, kind: manual}\n", []string{`bad.yaml:3: checks[0].kind: "manual": want probe, attestation or external`}},
		{"bad valid_for", "name: x\nchecks:\n  - {id: a, title: A, valid_for: soon}\n", []string{`bad.yaml:3: checks[0].valid_for: "soon": want a positive duration`}},
		{"bad evidence", "name: x\nchecks:\n  - {id: a, title: A, evidence: maybe}\n", []string{`bad.yaml:3: checks[0].evidence: "maybe": want required or optional`}},
		{"attestable attestation", "name: x\nchecks:\n  - {id: a, title: A, attestable: true}\n", []string{"bad.yaml:3: checks[0].attestable: only a probe check"}},
		{"probe on attestation", "name: x\nchecks:\n  - {id: a, title: A, kind: attestation, probe: tls}\n", []string{"bad.yaml:3: checks[0].probe: only a probe check has a probe"}},
		{"bad tier", "name: x\ntiers: {9: bronze, 1: diamond}\nchecks: [{id: a, title: A}]\n", []string{`bad.yaml:2: tiers.9: "9": a tier is 1`, `bad.yaml:2: tiers.1: "diamond" is not one of the levels`}},
		{"bad default", "name: x\ndefault_level: platinum\nchecks: [{id: a, title: A}]\n", []string{`bad.yaml:2: default_level: "platinum" is not one of the levels (bronze, silver, gold)`}},
		{"duplicate level", "name: x\nlevels: [a, a]\nchecks: [{id: a, title: A}]\n", []string{`bad.yaml:2: levels[1]: level "a" given twice`}},
		{"duplicate key", "name: x\nname: y\nchecks: [{id: a, title: A}]\n", []string{"bad.yaml:2: name: given twice"}},
		{"checks not a list", "name: x\nchecks: {id: a}\n", []string{"bad.yaml:2: checks: want a list of checks, got a mapping"}},
		{"check not a mapping", "name: x\nchecks: [just-text]\n", []string{`bad.yaml:2: checks[0]: want a mapping, got "just-text"`}},
		{"title a list", "name: x\nchecks:\n  - id: a\n    title: [A]\n", []string{"bad.yaml:4: checks[0].title: want text, got a list"}},
		{"unknown check field", "name: x\nchecks:\n  - id: a\n    title: A\n    remedy: do it\n", []string{`bad.yaml:5: checks[0].remedy: unknown field; did you mean "remediation"?`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// Defaults: levels, the first level for checks and as the default, the
// kind from the presence of a probe.
func TestParseDefaults(t *testing.T) {
	cl, err := Parse("ok.yaml", []byte("name: mini\nchecks:\n  - {id: a, title: A}\n  - {id: b, title: B, probe: tls, level: gold}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cl.Levels, DefaultLevels) || cl.DefaultLevel != "bronze" || cl.Title != "mini" {
		t.Errorf("defaults: %+v", cl)
	}
	if a := cl.Checks[0]; a.Kind != KindAttestation || a.Level != "bronze" || a.Line != 3 {
		t.Errorf("check a: %+v", a)
	}
	if b := cl.Checks[1]; b.Kind != KindProbe || b.Level != "gold" {
		t.Errorf("check b: %+v", b)
	}
}

// A directory's checklists load in name order; one named like a built-in
// replaces it; two files with one name, or a broken file, are reported
// with their files.
func TestLoadDirAndAll(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", "name: launch\nchecks: [{id: a, title: A}]\n")
	write("a.yml", "name: prod\ntitle: Our prod\nchecks: [{id: only, title: Only}]\n")
	write("notes.txt", "not a checklist")
	all, err := All(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "prod" || all[0].Title != "Our prod" || all[1].Name != "launch" {
		t.Fatalf("all: %+v", all)
	}
	if all[0].File != filepath.Join(dir, "a.yml") {
		t.Errorf("file %q", all[0].File)
	}
	write("c.yaml", "name: launch\nchecks: [{id: a, title: A}]\n")
	write("d.yaml", "name: broken\nchecks:\n  - {id: a}\n")
	_, err = LoadDir(dir)
	for _, w := range []string{filepath.Join(dir, "c.yaml") + `:1: name: checklist "launch" is also defined in ` + filepath.Join(dir, "b.yaml"),
		filepath.Join(dir, "d.yaml") + ":3: checks[0].title: missing"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if _, err := LoadDir(filepath.Join(dir, "nope")); err == nil {
		t.Error("a missing directory is an error")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h30m": 12*time.Hour + 30*time.Minute, "1.5h": 90 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseDuration("soon"); err == nil {
		t.Error("soon parsed")
	}
}

// FuzzParse: whatever the bytes, Parse does not panic, and a checklist
// it accepts writes YAML that reads back to the same checks.
func FuzzParse(f *testing.F) {
	b, _ := builtinFS.ReadFile("builtin/prod.yaml")
	f.Add(b)
	for _, s := range []string{"", "name: x\nchecks: [{id: a, title: A}]\n", "name: x\nchecks:\n  - {id: a, title: A, probe: tls, params: {a: b}}\n",
		"name: x\ntiers: {1: gold}\nlevels: [bronze, gold]\nchecks: [{id: a, title: A, valid_for: 9d, attestable: true, probe: drill}]\n",
		"name: &a x\nchecks: [*a]\n", "- a\n- b\n", "name: x\nchecks: [{id: a, title: {b: c}}]\n", "{", "name: x\nlevels: []\nchecks: []\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cl, err := Parse("fuzz.yaml", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out, err := cl.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("accepted, but its YAML does not read back: %v\n%s", err, out)
		}
		if !slices.Equal(back.IDs(), cl.IDs()) || !slices.Equal(back.Levels, cl.Levels) {
			t.Fatalf("read back %v %v, want %v %v", back.IDs(), back.Levels, cl.IDs(), cl.Levels)
		}
	})
}
