package postmortem_test

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/internal/golden"
	"github.com/oncallhq/oncall/postmortem"
)

const handWritten = `---
# the team's notes stay
id: INC-7
title: Checkout fails for EU players
severity: SEV2
status: Draft # set by oncall postmortem status
owner: "@ana"
services: [checkout, payments]
started: 2026-11-23T10:02:00Z
resolved: 2026-11-23 10:40
due: 2026-11-28
jira_epic: OPS-7
actions:
  - title: alert on the payment provider's errors
    owner: ben
    due: 2026-12-08
    ticket: https://tracker.example.com/OPS-1
    status: in progress
---
# INC-7: Checkout fails for EU players

## Summary

Our   prose, with odd   spacing,
a trailing space 
and no final newline`

func TestParseReadsEveryField(t *testing.T) {
	d, err := postmortem.Parse("INC-7.md", []byte(handWritten))
	if err != nil {
		t.Fatal(err)
	}
	want := postmortem.FrontMatter{ID: "INC-7", Title: "Checkout fails for EU players", Severity: incidents.SEV2, Status: postmortem.StatusDraft,
		Owner: "ana", Services: []string{"checkout", "payments"}, Started: time.Date(2026, 11, 23, 10, 2, 0, 0, time.UTC),
		Resolved: time.Date(2026, 11, 23, 10, 40, 0, 0, time.UTC), Due: mustDate(t, "2026-11-28"),
		Actions: []postmortem.Action{{Title: "alert on the payment provider's errors", Owner: "ben", Due: mustDate(t, "2026-12-08"),
			Ticket: "https://tracker.example.com/OPS-1", Status: postmortem.ActionInProgress}}}
	if !reflect.DeepEqual(d.FrontMatter, want) {
		t.Errorf("front matter\n got %+v\nwant %+v", d.FrontMatter, want)
	}
	if !strings.HasPrefix(string(d.Body), "# INC-7") {
		t.Errorf("body %q", d.Body)
	}
}

func mustDate(t *testing.T, s string) postmortem.Date {
	t.Helper()
	d, err := postmortem.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Moving the status or editing the actions rewrites the front matter
// only: the prose, byte for byte, and the keys and comments oncall does
// not own stay.
func TestEditingKeepsTheProse(t *testing.T) {
	d, err := postmortem.Parse("INC-7.md", []byte(handWritten))
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Clone(d.Body)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	d.SetStatus(postmortem.StatusReviewed, at)
	acts := append(d.Actions, postmortem.Action{Title: "load-test the rollback", Owner: "ric", Status: postmortem.ActionOpen})
	acts[0].Status = postmortem.ActionDone
	d.SetActions(acts)
	b, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	golden.File(t, "edited.md", string(b))
	back, err := postmortem.Parse("INC-7.md", b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Body, body) {
		t.Errorf("body changed:\n%q\n%q", back.Body, body)
	}
	if back.Status != postmortem.StatusReviewed || !back.StatusSince.Equal(at) || len(back.Actions) != 2 || back.Actions[0].Status != postmortem.ActionDone {
		t.Errorf("read back %+v", back.FrontMatter)
	}
	for _, kept := range []string{"# the team's notes stay", "jira_epic: OPS-7", "# set by oncall postmortem status"} {
		if !strings.Contains(string(b), kept) {
			t.Errorf("lost %q:\n%s", kept, b)
		}
	}
}

// Anchors and aliases written by hand survive an edit: the status an
// alias pointed at is replaced, the alias keeps its value, and the file
// written reads back with the same people.
func TestEditingWithAliases(t *testing.T) {
	src := "---\nid: INC-5\ntitle: aliases\nstatus: &st Draft\nowner: &who ana\nfacilitator: *who\nold_status: *st\n---\nbody\n"
	d, err := postmortem.Parse("INC-5.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if d.Owner != "ana" || d.Facilitator != "ana" {
		t.Fatalf("read %q and %q through the alias", d.Owner, d.Facilitator)
	}
	d.SetStatus(postmortem.StatusReviewed, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	b, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := postmortem.Parse("INC-5.md", b)
	if err != nil {
		t.Fatalf("the edited file does not read back: %v\n%s", err, b)
	}
	if back.Status != postmortem.StatusReviewed || back.Owner != "ana" || back.Facilitator != "ana" || !strings.Contains(string(b), "old_status: Draft") {
		t.Errorf("read back %+v:\n%s", back.FrontMatter, b)
	}
}

// A front matter edited by hand into something invalid: every problem,
// each with the file's line and the field.
func TestBadFrontMatterNamesLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"fields", "---\nid: INC-7\ntitle: t\nstatus: Finished\nseverity: SEV9\nstarted: yesterday\ndrill: maybe\nservices: {a: b}\nactions:\n  - title: x\n    due: next week\n    stauts: open\n  - owner: ben\n---\nbody\n", []string{
			`INC-7.md:4: status: unknown status "Finished": want Draft, In review, Reviewed or Closed`,
			`INC-7.md:5: severity: unknown severity "SEV9"`,
			`INC-7.md:6: started: "yesterday" is not a time`,
			`INC-7.md:7: drill: "maybe": want true or false`,
			`INC-7.md:8: services: want a list of names, got a mapping`,
			`INC-7.md:11: actions[0].due: "next week" is not a date like 2026-12-08`,
			`INC-7.md:12: actions[0].stauts: unknown field; did you mean status?`,
			`INC-7.md:13: actions[1].title: missing: say what is to be done`,
		}},
		{"missing", "---\nowner: ana\nstaus: Draft\n---\n", []string{
			"INC-7.md:3: staus: unknown field; did you mean status?",
			"INC-7.md:2: id: missing",
			"INC-7.md:2: title: missing",
			"INC-7.md:2: status: missing",
		}},
		{"duplicate", "---\nid: a\ntitle: t\nstatus: Draft\nstatus: Closed\n---\n", []string{"INC-7.md:5: status: given twice (first at line 4)"}},
		{"syntax", "---\nid: a\ntitle: [unclosed\nstatus: Draft\n---\n", []string{"INC-7.md:", "front matter: YAML syntax:"}},
		{"not a mapping", "---\n- a\n---\n", []string{"INC-7.md:2: front matter: want a mapping"}},
		{"unclosed", "---\nid: a\n", []string{"INC-7.md:1: front matter: not closed"}},
		{"none", "# Just Markdown\n", []string{"INC-7.md:1: front matter: missing", "oncall postmortem import"}},
	} {
		_, err := postmortem.Parse("INC-7.md", []byte(tc.text))
		if err == nil {
			t.Errorf("%s: parsed", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", tc.name, w, err)
			}
		}
	}
}

func TestStatuses(t *testing.T) {
	for in, want := range map[string]postmortem.Status{"draft": postmortem.StatusDraft, "In review": postmortem.StatusInReview, "in-review": postmortem.StatusInReview,
		"IN_REVIEW": postmortem.StatusInReview, "inreview": postmortem.StatusInReview, "reviewed": postmortem.StatusReviewed, " Closed ": postmortem.StatusClosed} {
		if got, err := postmortem.ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := postmortem.ParseStatus("done"); err == nil {
		t.Error("done is not a postmortem status")
	}
}

func TestActionsOverdue(t *testing.T) {
	due := mustDate(t, "2026-12-08")
	for _, tc := range []struct {
		at     time.Time
		status postmortem.ActionStatus
		want   bool
	}{
		{time.Date(2026, 12, 8, 23, 59, 0, 0, time.UTC), postmortem.ActionOpen, false}, // due today is not late
		{time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), postmortem.ActionOpen, true},
		{time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), postmortem.ActionInProgress, true},
		{time.Date(2027, 1, 9, 0, 0, 0, 0, time.UTC), postmortem.ActionDone, false},
		{time.Date(2027, 1, 9, 0, 0, 0, 0, time.UTC), postmortem.ActionDropped, false},
	} {
		if got := (postmortem.Action{Title: "x", Due: due, Status: tc.status}).Overdue(tc.at); got != tc.want {
			t.Errorf("%s at %v: overdue %v, want %v", tc.status, tc.at, got, tc.want)
		}
	}
	docs := []postmortem.Document{
		{FrontMatter: postmortem.FrontMatter{ID: "INC-2", Actions: []postmortem.Action{{Title: "a", Owner: "ana", Due: due, Status: postmortem.ActionOpen}, {Title: "b", Owner: "ben", Status: postmortem.ActionOpen}}}},
		{FrontMatter: postmortem.FrontMatter{ID: "INC-1", Actions: []postmortem.Action{{Title: "c", Owner: "ana", Due: mustDate(t, "2026-11-01"), Status: postmortem.ActionOpen}, {Title: "d", Owner: "ana", Status: postmortem.ActionDone}}}},
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	titles := func(rs []postmortem.ActionRef) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Postmortem+":"+r.Title)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		f    postmortem.ActionFilter
		want string
	}{
		{postmortem.ActionFilter{}, "INC-1:c INC-2:a INC-2:b"},
		{postmortem.ActionFilter{Overdue: true}, "INC-1:c"},
		{postmortem.ActionFilter{Owner: "ana"}, "INC-1:c INC-2:a"},
		{postmortem.ActionFilter{Owner: "ana", All: true}, "INC-1:c INC-2:a INC-1:d"},
	} {
		if got := titles(postmortem.ListActions(docs, tc.f, at)); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.f, got, tc.want)
		}
	}
}

// Postmortems written with other templates come in with what they say:
// title, date, authors, status, severity, services, the action item table
// or task list; their prose stays as written.
func TestImport(t *testing.T) {
	for _, tc := range []struct {
		file   string
		golden string
		check  func(*testing.T, postmortem.Document, postmortem.ImportReport)
	}{
		{"srebook-style.md", "imported-srebook.md", func(t *testing.T, d postmortem.Document, r postmortem.ImportReport) {
			if d.Title != "Search results empty after index rebuild" || d.Owner != "mira" || d.Status != postmortem.StatusReviewed || !d.Started.Equal(time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("front matter %+v", d.FrontMatter)
			}
			if len(d.Actions) != 2 || d.Actions[0].Owner != "tom" || d.Actions[0].Ticket != "https://tracker.example.com/SRCH-12" || d.Actions[1].Ticket != "SRCH-13" {
				t.Errorf("actions %+v", d.Actions)
			}
			for _, s := range []string{"summary", "impact", "root-cause", "trigger", "recovery", "detection", "action-items", "went-well", "went-wrong", "lucky", "timeline"} {
				if _, ok := r.Sections[s]; !ok {
					t.Errorf("section %s not found: %v", s, r.Sections)
				}
			}
		}},
		{"frontmatter-style.md", "imported-frontmatter.md", func(t *testing.T, d postmortem.Document, r postmortem.ImportReport) {
			if d.ID != "7c1f1e2a-postmortem" || d.Severity != incidents.SEV1 || d.Status != postmortem.StatusInReview || d.Services[0] != "payments" ||
				!d.Resolved.Equal(time.Date(2026, 11, 20, 15, 12, 0, 0, time.UTC)) {
				t.Errorf("front matter %+v", d.FrontMatter)
			}
			if len(d.Actions) != 2 || d.Actions[1].Status != postmortem.ActionDone {
				t.Errorf("actions %+v", d.Actions)
			}
			if !strings.Contains(strings.Join(r.Ignored, " "), "categories") {
				t.Errorf("ignored %v", r.Ignored)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src, err := os.ReadFile("testdata/import/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			d, rep, err := postmortem.Import(tc.file, src)
			if err != nil {
				t.Fatal(err)
			}
			b, err := d.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			golden.File(t, tc.golden, string(b))
			back, err := postmortem.Parse(tc.golden, b)
			if err != nil {
				t.Fatalf("the import does not parse: %v", err)
			}
			if !reflect.DeepEqual(back.FrontMatter, d.FrontMatter) {
				t.Errorf("read back\n%+v\n%+v", back.FrontMatter, d.FrontMatter)
			}
			tc.check(t, d, rep)
		})
	}
	if _, _, err := postmortem.Import("notes.txt", []byte("just notes\n")); err == nil || !strings.Contains(err.Error(), "notes.txt:1: nothing to import") {
		t.Errorf("import of plain notes: %v", err)
	}
	if _, _, err := postmortem.Import("x.md", []byte("---\ntitle: [a\n---\n# x\n")); err == nil || !strings.Contains(err.Error(), "x.md:2") {
		t.Errorf("import of broken YAML: %v", err)
	}
}

// FuzzParse: whatever Parse accepts, written back it reads the same, with
// the body untouched; a status edit changes nothing else.
func FuzzParse(f *testing.F) {
	f.Add([]byte(handWritten))
	f.Add([]byte("---\nid: a\ntitle: b\nstatus: Closed\n---\n"))
	f.Add([]byte("---\r\nid: a\r\ntitle: b\r\nstatus: draft\r\n...\r\nbody\r\n"))
	f.Add([]byte("---\nid: &x a\ntitle: *x\nstatus: In review\nactions: []\n---"))
	f.Add([]byte("\xef\xbb\xbf---\nid: 1\ntitle: 2\nstatus: reviewed\nservices: a, b\n---\n---\n"))
	if b, err := os.ReadFile("testdata/INC-1.md"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := postmortem.Parse("f.md", in)
		if err != nil {
			return
		}
		out, err := d.Bytes()
		if err != nil {
			return // a node yaml.v3 cannot write back (it says so)
		}
		back, err := postmortem.Parse("f.md", out)
		if err != nil {
			t.Fatalf("written back does not parse: %v\n%q\n%q", err, in, out)
		}
		if !reflect.DeepEqual(back.FrontMatter, d.FrontMatter) || !bytes.Equal(back.Body, d.Body) {
			t.Fatalf("round trip changed it:\n%+v\n%+v\n%q\n%q", d.FrontMatter, back.FrontMatter, d.Body, back.Body)
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		back.SetStatus(postmortem.StatusClosed, at)
		out2, err := back.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		again, err := postmortem.Parse("f.md", out2)
		if err != nil || again.Status != postmortem.StatusClosed || !bytes.Equal(again.Body, d.Body) || again.Title != d.Title || len(again.Actions) != len(d.Actions) {
			t.Fatalf("status edit: %v %+v", err, again.FrontMatter)
		}
	})
}

// FuzzImport: whatever Import makes of a foreign file is a postmortem in
// oncall's format: written, it parses back the same, with its prose.
func FuzzImport(f *testing.F) {
	for _, p := range []string{"testdata/import/srebook-style.md", "testdata/import/frontmatter-style.md", "testdata/import/no-structure.txt"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("# Search empty\n\n**Date:** 2026-10-02\n\n**Status:** Complete\n\n## Action Items\n\n- [ ] alert on empty results\n"))
	f.Add([]byte("---\ntitle: t\nseverity: 1\n---\n## Action items\n\n| Action | Owner | Due |\n|---|---|---|\n| fix | ana | 2026-01-02 |\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, _, err := postmortem.Import("in.md", in)
		if err != nil {
			return
		}
		out, err := d.Bytes()
		if err != nil {
			return
		}
		back, err := postmortem.Parse("out.md", out)
		if err != nil {
			t.Fatalf("an import does not parse: %v\n%q\n%q", err, in, out)
		}
		if back.ID != d.ID || back.Title != d.Title || back.Status != d.Status || len(back.Actions) != len(d.Actions) || !bytes.Equal(back.Body, d.Body) {
			t.Fatalf("an import read back differs:\n%+v\n%+v", d.FrontMatter, back.FrontMatter)
		}
	})
}
