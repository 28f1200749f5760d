// Package silence is Alertmanager's silences: a set of label matchers that
// mutes the alerts it matches between two instants, with who made it and
// why. It holds the rules — validation, states, which edits keep a silence's
// history and which replace it, expiry, retention — and a Silencer that
// mutes alerts by the silences active at an instant. Silences live in the
// store; this package reaches it through the small Store interface.
package silence

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// State is where a silence is in its life.
type State string

// Silence states, as Alertmanager names them.
const (
	StatePending State = "pending"
	StateActive  State = "active"
	StateExpired State = "expired"
)

// Retention is how long an expired silence is kept, as Alertmanager's
// default --data.retention.
const Retention = 120 * time.Hour

// Silence mutes the alerts its matchers match while it is active.
type Silence struct {
	ID        string            `json:"id"`
	Matchers  amlabels.Matchers `json:"matchers"`
	StartsAt  time.Time         `json:"startsAt"`
	EndsAt    time.Time         `json:"endsAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
	CreatedBy string            `json:"createdBy"`
	Comment   string            `json:"comment"`
}

// ErrNotFound is returned for a silence id that does not exist.
var ErrNotFound = errors.New("silence not found")

// StateAt is the silence's state at t.
func (s Silence) StateAt(t time.Time) State {
	switch {
	case t.Before(s.StartsAt):
		return StatePending
	case t.Before(s.EndsAt):
		return StateActive
	default:
		return StateExpired
	}
}

// Matches reports whether every matcher matches ls (a missing label is the
// empty string).
func (s Silence) Matches(ls labels.Labels) bool {
	for _, m := range s.Matchers {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Validate checks the silence as Alertmanager does before storing it.
func (s Silence) Validate() error {
	if len(s.Matchers) == 0 {
		return errors.New("at least one matcher required")
	}
	allMatchEmpty := true
	for i, m := range s.Matchers {
		if err := validateMatcher(m); err != nil {
			return fmt.Errorf("invalid label matcher %d: %w", i, err)
		}
		allMatchEmpty = allMatchEmpty && matchesEmpty(m)
	}
	if allMatchEmpty {
		return errors.New("at least one matcher must not match the empty string")
	}
	if s.StartsAt.IsZero() {
		return errors.New("invalid zero start timestamp")
	}
	if s.EndsAt.IsZero() {
		return errors.New("invalid zero end timestamp")
	}
	if s.EndsAt.Before(s.StartsAt) {
		return errors.New("end time must not be before start time")
	}
	return nil
}

func validateMatcher(m *amlabels.Matcher) error {
	if !model.LabelName(m.Name).IsValidLegacy() {
		return fmt.Errorf("invalid label name %q", m.Name)
	}
	switch m.Type {
	case amlabels.MatchEqual, amlabels.MatchNotEqual:
		if !model.LabelValue(m.Value).IsValid() {
			return fmt.Errorf("invalid label value %q", m.Value)
		}
	case amlabels.MatchRegexp, amlabels.MatchNotRegexp:
		if _, err := regexp.Compile(m.Value); err != nil {
			return fmt.Errorf("invalid regular expression %q: %w", m.Value, err)
		}
	default:
		return fmt.Errorf("unknown matcher type %q", m.Type)
	}
	return nil
}

// matchesEmpty is Alertmanager 0.25's test: only = and =~ matchers count.
func matchesEmpty(m *amlabels.Matcher) bool {
	switch m.Type {
	case amlabels.MatchEqual:
		return m.Value == ""
	case amlabels.MatchRegexp:
		ok, _ := regexp.MatchString(m.Value, "")
		return ok
	}
	return false
}

// Store keeps silences. Put inserts or replaces a silence by ID.
type Store interface {
	Silence(ctx context.Context, id string) (Silence, error)
	PutSilence(ctx context.Context, s Silence) error
	Silences(ctx context.Context) ([]Silence, error)
	DeleteSilences(ctx context.Context, ids []string) error
}

// Silences creates, edits and expires silences in a Store with
// Alertmanager's rules.
type Silences struct {
	st  Store
	now func() time.Time
}

// New returns silences kept in st, with now as the clock.
func New(st Store, now func() time.Time) *Silences {
	if now == nil {
		now = time.Now
	}
	return &Silences{st: st, now: now}
}

// Set creates a silence (empty ID) or edits one. An edit that would rewrite
// history — other matchers, a new start for an active silence, an end in
// the past, anything on an expired one — expires the old silence and
// creates a new one with a new ID. A start in the past becomes now. It
// returns the ID of the silence that now stands.
func (ss *Silences) Set(ctx context.Context, s Silence) (string, error) {
	now := ss.now().UTC()
	if s.ID != "" {
		prev, err := ss.st.Silence(ctx, s.ID)
		if err != nil {
			return "", err
		}
		if canUpdate(prev, s, now) {
			return s.ID, ss.put(ctx, s, now)
		}
		if prev.StateAt(now) != StateExpired {
			if err := ss.expire(ctx, prev, now); err != nil {
				return "", fmt.Errorf("expire previous silence: %w", err)
			}
		}
	}
	s.ID = uuid.NewString()
	if s.StartsAt.Before(now) {
		s.StartsAt = now
	}
	return s.ID, ss.put(ctx, s, now)
}

func (ss *Silences) put(ctx context.Context, s Silence, now time.Time) error {
	s.UpdatedAt = now
	if err := s.Validate(); err != nil {
		return fmt.Errorf("silence invalid: %w", err)
	}
	return ss.st.PutSilence(ctx, s)
}

// canUpdate reports whether prev can become next without changing what
// was silenced in the past.
func canUpdate(prev, next Silence, now time.Time) bool {
	if !slices.EqualFunc(prev.Matchers, next.Matchers, func(a, b *amlabels.Matcher) bool {
		return a.Name == b.Name && a.Type == b.Type && a.Value == b.Value
	}) {
		return false
	}
	switch prev.StateAt(now) {
	case StateActive:
		return next.StartsAt.Unix() == prev.StartsAt.Unix() && !next.EndsAt.Before(now)
	case StatePending:
		return !next.StartsAt.Before(now)
	default:
		return false
	}
}

// Expire ends the silence now; expiring an expired silence does nothing.
func (ss *Silences) Expire(ctx context.Context, id string) error {
	s, err := ss.st.Silence(ctx, id)
	if err != nil {
		return err
	}
	return ss.expire(ctx, s, ss.now().UTC())
}

func (ss *Silences) expire(ctx context.Context, s Silence, now time.Time) error {
	switch s.StateAt(now) {
	case StateExpired:
		return nil
	case StateActive:
		s.EndsAt = now
	case StatePending:
		s.StartsAt, s.EndsAt = now, now
	}
	return ss.put(ctx, s, now)
}

// GC deletes silences expired for longer than Retention and returns how
// many it deleted.
func (ss *Silences) GC(ctx context.Context) (int, error) {
	all, err := ss.st.Silences(ctx)
	if err != nil {
		return 0, err
	}
	cut := ss.now().Add(-Retention)
	var old []string
	for _, s := range all {
		if s.EndsAt.Before(cut) {
			old = append(old, s.ID)
		}
	}
	if len(old) == 0 {
		return 0, nil
	}
	return len(old), ss.st.DeleteSilences(ctx, old)
}

// Silencer mutes alerts by a snapshot of silences.
type Silencer struct {
	sils []Silence
}

// NewSilencer returns a silencer over sils; expired ones are dropped.
func NewSilencer(sils []Silence, now time.Time) *Silencer {
	out := &Silencer{}
	for _, s := range sils {
		if s.StateAt(now) != StateExpired {
			out.sils = append(out.sils, s)
		}
	}
	return out
}

// Mutes returns the IDs of the silences active at now that match ls, in a
// stable order; none means the alert is not silenced.
func (s *Silencer) Mutes(ls labels.Labels, now time.Time) []string {
	var ids []string
	for _, sil := range s.sils {
		if sil.StateAt(now) == StateActive && sil.Matches(ls) {
			ids = append(ids, sil.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// Len is the number of unexpired silences the silencer holds.
func (s *Silencer) Len() int { return len(s.sils) }
