package silence

import (
	"context"
	"strings"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
)

// memStore is a Store in a map.
type memStore map[string]Silence

func (m memStore) Silence(_ context.Context, id string) (Silence, error) {
	s, ok := m[id]
	if !ok {
		return Silence{}, ErrNotFound
	}
	return s, nil
}
func (m memStore) PutSilence(_ context.Context, s Silence) error { m[s.ID] = s; return nil }
func (m memStore) Silences(context.Context) ([]Silence, error) {
	var out []Silence
	for _, s := range m {
		out = append(out, s)
	}
	return out, nil
}
func (m memStore) DeleteSilences(_ context.Context, ids []string) error {
	for _, id := range ids {
		delete(m, id)
	}
	return nil
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func matchers(t *testing.T, ss ...string) amlabels.Matchers {
	t.Helper()
	var out amlabels.Matchers
	for _, s := range ss {
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestValidate(t *testing.T) {
	ok := Silence{Matchers: nil, StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	tests := []struct {
		ms   []string
		mod  func(*Silence)
		want string
	}{
		{[]string{`service="api"`}, nil, ""},
		{nil, nil, "at least one matcher required"},
		{[]string{`service=""`}, nil, "at least one matcher must not match the empty string"},
		{[]string{`service=~".*"`, `x=""`}, nil, "at least one matcher must not match the empty string"},
		{[]string{`service!="api"`}, nil, ""}, // Alertmanager 0.25 lets a lone negative matcher through
		{[]string{`service="api"`}, func(s *Silence) { s.EndsAt = t0.Add(-time.Second) }, "end time must not be before start time"},
		{[]string{`service="api"`}, func(s *Silence) { s.StartsAt = time.Time{} }, "invalid zero start timestamp"},
	}
	for _, tc := range tests {
		s := ok
		s.Matchers = matchers(t, tc.ms...)
		if tc.mod != nil {
			tc.mod(&s)
		}
		err := s.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: error %v, want %q", tc.ms, err, tc.want)
		}
	}
	bad := ok
	bad.Matchers = amlabels.Matchers{{Name: "1x", Type: amlabels.MatchEqual, Value: "a"}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `invalid label name "1x"`) {
		t.Errorf("bad name: %v", err)
	}
}

func TestSetEditsOrReplacesLikeAlertmanager(t *testing.T) {
	ctx := context.Background()
	now := t0
	st := memStore{}
	ss := New(st, func() time.Time { return now })
	id, err := ss.Set(ctx, Silence{Matchers: matchers(t, `service="api"`), StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(time.Hour), CreatedBy: "ana", Comment: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if got := st[id]; !got.StartsAt.Equal(t0) || got.StateAt(now) != StateActive {
		t.Fatalf("a start in the past becomes now: %+v", got)
	}

	// Extending an active silence keeps its ID.
	s := st[id]
	s.EndsAt = t0.Add(2 * time.Hour)
	if id2, err := ss.Set(ctx, s); err != nil || id2 != id {
		t.Fatalf("extend: %s, %v", id2, err)
	}

	// Changing its matchers expires it and creates another.
	now = t0.Add(10 * time.Minute)
	s = st[id]
	s.Matchers = matchers(t, `service="api"`, `env="prod"`)
	id3, err := ss.Set(ctx, s)
	if err != nil || id3 == id {
		t.Fatalf("rematch: %s, %v", id3, err)
	}
	if st[id].StateAt(now) != StateExpired || !st[id].EndsAt.Equal(now) {
		t.Errorf("old silence should have ended now: %+v", st[id])
	}

	// Editing an unknown ID is refused.
	s.ID = "nope"
	if _, err := ss.Set(ctx, s); err != ErrNotFound {
		t.Errorf("unknown id: %v", err)
	}

	// A pending silence expired now starts and ends now.
	idp, err := ss.Set(ctx, Silence{Matchers: matchers(t, `a="b"`), StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Expire(ctx, idp); err != nil {
		t.Fatal(err)
	}
	if p := st[idp]; !p.StartsAt.Equal(now) || !p.EndsAt.Equal(now) {
		t.Errorf("expired pending silence: %+v", p)
	}
	if err := ss.Expire(ctx, idp); err != nil {
		t.Errorf("expiring twice: %v", err)
	}
	if err := ss.Expire(ctx, "nope"); err != ErrNotFound {
		t.Errorf("expire unknown: %v", err)
	}

	// Retention: gone 120h after it ended.
	now = now.Add(Retention + time.Minute)
	n, err := ss.GC(ctx)
	if err != nil || n != 2 {
		t.Errorf("GC removed %d (%v), want the two expired ones", n, err)
	}
}

func TestSilencerMutesActiveMatches(t *testing.T) {
	sils := []Silence{
		{ID: "b", Matchers: matchers(t, `service=~"api|web"`), StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{ID: "a", Matchers: matchers(t, `severity!="page"`, `service="api"`), StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{ID: "later", Matchers: matchers(t, `service="api"`), StartsAt: t0.Add(30 * time.Minute), EndsAt: t0.Add(time.Hour)},
		{ID: "old", Matchers: matchers(t, `service="api"`), StartsAt: t0.Add(-time.Hour), EndsAt: t0},
	}
	s := NewSilencer(sils, t0)
	if s.Len() != 3 {
		t.Errorf("expired silences kept: %d", s.Len())
	}
	api := labels.FromStrings("service", "api", "severity", "ticket")
	if got := s.Mutes(api, t0); strings.Join(got, ",") != "a,b" {
		t.Errorf("mutes %v, want a,b", got)
	}
	if got := s.Mutes(api, t0.Add(45*time.Minute)); strings.Join(got, ",") != "a,b,later" {
		t.Errorf("mutes %v once the pending one starts", got)
	}
	if got := s.Mutes(labels.FromStrings("service", "db"), t0); len(got) != 0 {
		t.Errorf("db muted by %v", got)
	}
	if got := s.Mutes(api, t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("muted after the end: %v", got)
	}
}
