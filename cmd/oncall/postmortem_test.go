package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oncallhq/oncall/postmortem"
)

// A postmortem written, moved and reviewed with the real CLI against a
// running server, after an incident run with the CLI.
func TestPostmortemCommands(t *testing.T) {
	_, dir := startOncall(t, peopleYAML+"postmortems:\n  directory: pm\n  action_due_days: {SEV2: 10}\n", nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	oc := func(args ...string) (int, string, string) {
		t.Helper()
		return run(t, []string{"USER=ana"}, append(args, "--config", cfg)...)
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, stderr := oc(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
		return out
	}
	must("incident", "declare", "Checkout fails for EU players", "--sev", "2", "--service", "checkout")
	must("incident", "task", "add", "1", "ask the provider about the 500s", "--owner", "ben")
	must("incident", "ack", "1")
	must("incident", "update", "1", "rolling", "back")
	must("incident", "mitigate", "1", "--why", "rolled back")
	must("incident", "resolve", "1")

	out := must("postmortem", "new", "INC-1")
	path := filepath.Join(dir, "pm", "INC-1.md")
	if !strings.Contains(out, "wrote "+path) {
		t.Errorf("new: %s", out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := postmortem.Parse(path, b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != postmortem.StatusDraft || d.DeclaredBy != "ana" || d.Acknowledged.IsZero() || d.Mitigated.IsZero() || d.Resolved.IsZero() || d.Services[0] != "checkout" {
		t.Errorf("front matter %+v", d.FrontMatter)
	}
	if len(d.Actions) != 2 || d.Actions[0].Owner != "ben" || d.Actions[0].Due != postmortem.DateOf(d.Resolved).AddDays(10) || !strings.Contains(d.Actions[1].Title, "Add an alert") {
		t.Errorf("actions %+v: the open task and the missing alert, due in the configured 10 days", d.Actions)
	}
	for _, want := range []string{"## Timeline", "declared by ana: Checkout fails for EU players (SEV2)", "acknowledged by ana", "### Who was paged", "Declared by hand by ana: no alert caught it", "## Where we got lucky"} {
		if !bytes.Contains(d.Body, []byte(want)) {
			t.Errorf("the postmortem lacks %q:\n%s", want, b)
		}
	}

	// Never overwritten without --force.
	if code, _, stderr := oc("postmortem", "new", "INC-1"); code == 0 || !strings.Contains(stderr, "exists: edit it, or write it again with --force") {
		t.Errorf("new over an existing file: %d %s", code, stderr)
	}
	must("postmortem", "new", "INC-1", "--force")
	if code, _, stderr := oc("postmortem", "new", "INC-99"); code == 0 || !strings.Contains(stderr, "unknown incident INC-99") {
		t.Errorf("new for an unknown incident: %d %s", code, stderr)
	}

	b, _ = os.ReadFile(path)
	d, _ = postmortem.Parse(path, b)
	if out := must("postmortem", "status", path, "in review"); !strings.Contains(out, "Draft → In review") {
		t.Errorf("status: %s", out)
	}
	after, _ := os.ReadFile(path)
	moved, err := postmortem.Parse(path, after)
	if err != nil || moved.Status != postmortem.StatusInReview || !bytes.Equal(moved.Body, d.Body) {
		t.Errorf("after status: %v %v (body kept: %v)", err, moved.Status, bytes.Equal(moved.Body, d.Body))
	}
	if code, _, stderr := oc("postmortem", "status", path, "finished"); code == 0 || !strings.Contains(stderr, `unknown status "finished"`) {
		t.Errorf("status finished: %d %s", code, stderr)
	}
	bad := filepath.Join(dir, "pm", "bad.md")
	os.WriteFile(bad, []byte("---\nid: INC-50\ntitle: edited by hand\nstatus: Done\n---\nbody\n"), 0o644)
	if code, _, stderr := oc("postmortem", "status", bad, "closed"); code == 0 || !strings.Contains(stderr, bad+`:4: status: unknown status "Done"`) {
		t.Errorf("status on a bad front matter: %d %s", code, stderr)
	}
	os.WriteFile(filepath.Join(dir, "pm", "INC-0.md"), []byte("---\nid: INC-0\ntitle: old\nstatus: Reviewed\nactions:\n  - {title: rotate the keys, owner: dee, due: 2020-01-31}\n---\n"), 0o644)

	code, out, stderr := oc("postmortem", "actions")
	if code != 0 || !hasRow(out, "ben", "open", "INC-1", "ask the provider about the 500s") || !hasRow(out, "2020-01-31 (overdue)", "dee", "INC-0", "rotate the keys") || !strings.Contains(stderr, "skipped "+bad+":4: status") {
		t.Errorf("actions: %d\n%s%s", code, out, stderr)
	}
	if out := must("postmortem", "actions", "--overdue"); strings.Contains(out, "INC-1") || !strings.Contains(out, "rotate the keys") {
		t.Errorf("actions --overdue:\n%s", out)
	}
	var list []postmortem.ActionRef
	if err := json.Unmarshal([]byte(must("postmortem", "actions", "--owner", "@ben", "-o", "json")), &list); err != nil || len(list) != 1 || list[0].Owner != "ben" {
		t.Errorf("actions --owner ben -o json: %v %+v", err, list)
	}

	src := filepath.Join(t.TempDir(), "old-retro.md")
	os.WriteFile(src, []byte("# Search empty\n\n**Date:** 2026-10-02\n\n**Status:** Complete\n\n## Summary\n\nIt was empty.\n\n## Action Items\n\n- [ ] alert on empty results\n"), 0o644)
	if out := must("postmortem", "import", src); !strings.Contains(out, filepath.Join(dir, "pm", "old-retro.md")) || !strings.Contains(out, "Reviewed, 2 of 14 sections, 1 action items") {
		t.Errorf("import: %s", out)
	}
	if code, _, stderr := oc("postmortem", "import", src); code == 0 || !strings.Contains(stderr, "exists") {
		t.Errorf("import again: %d %s", code, stderr)
	}

	var r struct {
		Week      string
		Incidents []struct{ Ref, Postmortem string }
		Skipped   []string
		Signal    struct{ Uncaught []struct{ Ref string } }
	}
	if err := json.Unmarshal([]byte(must("postmortem", "review", "-o", "json")), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Incidents) != 1 || r.Incidents[0].Ref != "INC-1" || r.Incidents[0].Postmortem != "In review" || len(r.Signal.Uncaught) != 1 ||
		len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0], "bad.md:4") {
		t.Errorf("review: %+v", r)
	}
	if out := must("postmortem", "review"); !strings.HasPrefix(out, "# Postmortem review, "+r.Week) || !strings.Contains(out, "INC-1 Checkout fails for EU players") {
		t.Errorf("review as Markdown:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"postmortem", "review", "--week", "2026-47"}, `--week: "2026-47" is not an ISO week: want YYYY-Www, like 2026-W47`},
		{[]string{"postmortem", "review", "--week", "2027-W53"}, "2027 has weeks 1 to 52"},
		{[]string{"postmortem", "review", "-o", "yaml"}, `--output "yaml": want markdown or json`},
		{[]string{"postmortem", "new", "seven"}, `incident "seven": want a number or INC-<number>`},
		{[]string{"postmortem", "frobnicate"}, `unknown command "frobnicate"`},
	} {
		if code, out, stderr := oc(tc.args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want an error with %q\n%s%s", tc.args, code, tc.want, out, stderr)
		}
	}
}

// The postmortems block is checked like the rest: file, line and field.
func TestPostmortemConfigValidation(t *testing.T) {
	cfg := noServerConfig(t, "postmortems:\n  template: nowhere.tmpl\n  action_due_days: {SEV9: 3, SEV1: 0}\n  due_days: -1\n")
	code, _, stderr := run(t, nil, "config", "validate", "--config", cfg)
	for _, want := range []string{
		`postmortems.template: "` + filepath.Join(filepath.Dir(cfg), "nowhere.tmpl") + `" is not a readable file`,
		"postmortems.action_due_days.SEV9: unknown severity",
		"postmortems.action_due_days.SEV1: 0: want at least 1 day",
		"postmortems.due_days: must not be negative",
		"oncall.yaml:",
	} {
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("config validate: exit %d, want %q in\n%s", code, want, stderr)
		}
	}
	if code, out, _ := run(t, nil, "postmortem", "new", "--print-template"); code != 0 || !strings.Contains(out, "## Where we got lucky") {
		t.Errorf("--print-template: %d", code)
	}
}
