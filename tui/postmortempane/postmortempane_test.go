package postmortempane

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/postmortem/review"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
)

// w43 is the review the review package builds from its seeded store
// (its golden JSON): every figure of the agenda is filled in.
func w43(t *testing.T) review.Review {
	t.Helper()
	b, err := os.ReadFile("../../postmortem/review/testdata/review-2026-W43.json")
	if err != nil {
		t.Fatal(err)
	}
	var r review.Review
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func week(t *testing.T, s string) review.Week {
	t.Helper()
	w, err := review.ParseWeek(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// query is the Query among the messages of cmd (nil if none).
func query(cmd tea.Cmd) *Query {
	for _, m := range tuitest.Msgs(cmd) {
		if q, ok := m.(Query); ok {
			return &q
		}
	}
	return nil
}

// The first tick of the shown pane asks for this week's review, once.
func TestAsksForThisWeekWhenFirstShown(t *testing.T) {
	p := New(tuitest.Env())
	if s := ansi.Strip(p.View(100, 10)); !strings.Contains(s, "t loads it") {
		t.Errorf("before any tick:\n%s", s)
	}
	q := query(p.Update(msg.Tick{Now: tuitest.Now}))
	// tuitest.Now is Monday 23 November 2026: ISO week 48.
	if q == nil || q.Week.String() != "2026-W48" {
		t.Fatalf("first tick asked %+v, want 2026-W48", q)
	}
	if s := ansi.Strip(p.View(100, 10)); !strings.Contains(s, "2026-W48 · Mon 23 Nov – Sun 29 Nov 2026 (UTC) · loading") || !strings.Contains(s, "Reading the week's") {
		t.Errorf("while loading:\n%s", s)
	}
	if q := query(p.Update(msg.Tick{Now: tuitest.Now})); q != nil {
		t.Errorf("a second tick asked again: %+v", q)
	}
}

// The agenda draws every section of the review, exactly w×h, and
// scrolls; the golden screens are the top and the end of it.
func TestAgendaGolden(t *testing.T) {
	p := New(tuitest.Env())
	q := query(p.Update(msg.Open{Pane: "review", Arg: "2026-W43"}))
	if q == nil || q.Week != week(t, "2026-W43") {
		t.Fatalf(":review 2026-W43 asked %+v", q)
	}
	p.Update(Result{Week: q.Week, Review: w43(t)})
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		s := p.View(size.w, size.h)
		tuitest.Size(t, s, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("review_%dx%d", size.w, size.h), s)
	}
	screen := p.View(120, 40)
	tuitest.Size(t, screen, 120, 40)
	tuitest.Golden(t, "review_120x40", screen)
	top := ansi.Strip(screen)
	for _, want := range []string{
		"INC-11  SEV1 payments", "no postmortem", "Draft", // the week's incidents and their postmortems
		"draft overdue since 2026-10-25", "in review for 16d9h", // due and stuck
		"alert on the provider's error rate (INC-5): due 2026-10-20, 5 days late", // overdue actions
		"busiest 12 h: 5 ⚠", "cai (America/New_York): 5 pages — 2 in working hours, 3 off hours, 1 asleep",
	} {
		if !strings.Contains(top, want) {
			t.Errorf("the top of the agenda lacks %q", want)
		}
	}
	if !strings.Contains(top, "more lines: j/pgdn scrolls") {
		t.Error("a long agenda does not say there is more")
	}
	for range 200 {
		p.Update(tuitest.Key("pgdown"))
	}
	end := p.View(120, 40)
	tuitest.Size(t, end, 120, 40)
	tuitest.Golden(t, "review_120x40_end", end)
	bottom := ansi.Strip(end)
	for _, want := range []string{
		"SearchLatency  3 firings on 1 series, median 4m firing (n=3), 2 under 5 min",
		"INC-11  Refunds stuck: declared by ana; no alert fired on payments",
		"2026-W43  9 incidents   acknowledge 5m (n=7), 2 never  resolve 25m (n=8), 1 never",
		"against the previous 4 weeks: acknowledge slower (5m, was 3m), resolve the same (25m)",
		`skipped broken.md:4: status: unknown status "Done"`,
	} {
		if !strings.Contains(bottom, want) {
			t.Errorf("the end of the agenda lacks %q", want)
		}
	}
	p.Update(tuitest.Key("g"))
	if ansi.Strip(p.View(120, 40)) != top {
		t.Error("g does not go back to the top")
	}
}

// [ and ] move a week, across the year's end (2026 has 53 ISO weeks);
// an answer for a week no longer shown is dropped; r asks again.
func TestWeeks(t *testing.T) {
	p := New(tuitest.Env())
	q := query(p.Update(msg.Open{Pane: "review", Arg: "2027-W01"}))
	p.Update(Result{Week: q.Week, Review: review.Review{Week: "2027-W01"}})
	for _, tc := range []struct{ key, want string }{{"[", "2026-W53"}, {"[", "2026-W52"}, {"]", "2026-W53"}, {"]", "2027-W01"}, {"r", "2027-W01"}} {
		q := query(p.Update(tuitest.Key(tc.key)))
		if q == nil || q.Week.String() != tc.want {
			t.Errorf("%s asked %+v, want %s", tc.key, q, tc.want)
		}
	}
	if q := query(p.Update(tuitest.Key("t"))); q == nil || q.Week.String() != "2026-W48" {
		t.Errorf("t asked %+v, want this week", q)
	}
	// A late answer for 2027-W01 does not replace the week asked for.
	p.Update(Result{Week: week(t, "2027-W01"), Review: review.Review{Week: "2027-W01", Incidents: []review.IncidentRow{{Ref: "INC-99"}}}})
	if s := ansi.Strip(p.View(100, 12)); strings.Contains(s, "INC-99") || !strings.Contains(s, "showing 2027-W01 until the new week arrives") {
		t.Errorf("a stale answer was drawn:\n%s", s)
	}
	if c := p.Crumbs(); len(c) != 1 || c[0] != "2026-W48" {
		t.Errorf("crumbs %v", c)
	}
}

// A week that does not parse is a clear error in the footer; a review
// that fails says why and how to retry.
func TestBadWeekAndFailure(t *testing.T) {
	p := New(tuitest.Env())
	ms := tuitest.Msgs(p.Update(msg.Open{Pane: "review", Arg: "2026-47"}))
	if len(ms) != 1 {
		t.Fatalf("messages %v", ms)
	}
	if st, ok := ms[0].(msg.Status); !ok || !st.Err || !strings.Contains(st.Text, `"2026-47" is not an ISO week: want YYYY-Www`) {
		t.Errorf("bad week: %+v", ms[0])
	}
	q := query(p.Update(msg.Open{Pane: "review", Arg: "2026-W47"}))
	p.Update(Result{Week: q.Week, Err: errors.New("server http://127.0.0.1:9 unreachable\nmore")})
	if s := ansi.Strip(p.View(100, 6)); !strings.Contains(s, "Could not build the review: server http://127.0.0.1:9 unreachable") || strings.Contains(s, "more") {
		t.Errorf("failure:\n%s", s)
	}
}

// Text from outside (titles, owners, file names) cannot drive the
// terminal.
func TestOutsideTextIsClean(t *testing.T) {
	p := New(tuitest.Env())
	q := query(p.Update(msg.Open{Pane: "review", Arg: "2026-W43"}))
	r := w43(t)
	r.Incidents[0].Title += tuitest.Poison
	r.OverdueActions[0].Owner += tuitest.Poison
	r.Signal.Noisiest[0].Alert += tuitest.Poison
	r.Skipped[0] += tuitest.Poison
	r.Due[0].Title += tuitest.Poison
	p.Update(Result{Week: q.Week, Review: r})
	for range 10 {
		if s := p.View(120, 40); !tuitest.Clean(s) {
			t.Fatalf("an escape sequence got through:\n%q", s)
		}
		p.Update(tuitest.Key("pgdown"))
	}
}
