package alerts

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

func TestFingerprintMatchesAlertmanager(t *testing.T) {
	sets := []map[string]string{
		{},
		{"alertname": "A"},
		{"alertname": "HighErrorRatio", "service": "matchmaking", "severity": "page"},
		{"a": "", "b": "ü\xff", "zz": strings.Repeat("x", 300)},
		{"instance": "10.0.0.1:9100", "job": "node", "__name__": "up"},
	}
	for _, m := range sets {
		ls := model.LabelSet{}
		for k, v := range m {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		got, want := Fingerprint(labels.FromMap(m)), uint64(ls.Fingerprint())
		if got != want {
			t.Errorf("Fingerprint(%v) = %x, Alertmanager's is %x", m, got, want)
		}
		if s := FingerprintString(got); s != ls.Fingerprint().String() {
			t.Errorf("FingerprintString = %s, want %s", s, ls.Fingerprint().String())
		}
	}
}

func TestMergeLikeAlertmanager(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	now := at(10)
	tests := []struct {
		name                string
		old, new            Alert
		wantStart, wantEnds time.Time
	}{
		{"younger wins, earliest start kept",
			Alert{StartsAt: at(1), EndsAt: at(20), UpdatedAt: at(2)},
			Alert{StartsAt: at(3), EndsAt: at(25), UpdatedAt: at(9)},
			at(1), at(25)},
		{"order of arguments does not matter",
			Alert{StartsAt: at(3), EndsAt: at(25), UpdatedAt: at(9)},
			Alert{StartsAt: at(1), EndsAt: at(20), UpdatedAt: at(2)},
			at(1), at(25)},
		{"a later explicit end beats a younger timeout end",
			Alert{StartsAt: at(1), EndsAt: at(30), UpdatedAt: at(2)},
			Alert{StartsAt: at(1), EndsAt: at(14), UpdatedAt: at(9), Timeout: true},
			at(1), at(30)},
		{"a timeout end does not beat a younger explicit end",
			Alert{StartsAt: at(1), EndsAt: at(30), UpdatedAt: at(2), Timeout: true},
			Alert{StartsAt: at(1), EndsAt: at(14), UpdatedAt: at(9)},
			at(1), at(14)},
		{"young resolution wins over an old open end",
			Alert{StartsAt: at(1), EndsAt: at(30), UpdatedAt: at(2)},
			Alert{StartsAt: at(1), EndsAt: at(8), UpdatedAt: at(9)},
			at(1), at(8)},
		{"of two resolutions the latest end wins",
			Alert{StartsAt: at(1), EndsAt: at(9), UpdatedAt: at(2)},
			Alert{StartsAt: at(1), EndsAt: at(7), UpdatedAt: at(9)},
			at(1), at(9)},
	}
	for _, tc := range tests {
		got := tc.old.Merge(&tc.new, now)
		if !got.StartsAt.Equal(tc.wantStart) || !got.EndsAt.Equal(tc.wantEnds) {
			t.Errorf("%s: got %v…%v, want %v…%v", tc.name, got.StartsAt, got.EndsAt, tc.wantStart, tc.wantEnds)
		}
	}
}

func TestValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ok := labels.FromStrings("alertname", "A")
	tests := []struct {
		a    Alert
		want string
	}{
		{Alert{Labels: ok, StartsAt: t0}, ""},
		{Alert{Labels: ok}, "start time missing"},
		{Alert{Labels: ok, StartsAt: t0, EndsAt: t0.Add(-time.Second)}, "start time must be before end time"},
		{Alert{StartsAt: t0}, "at least one label pair required"},
		{Alert{Labels: labels.FromStrings("1bad", "x"), StartsAt: t0}, `invalid label set: invalid name "1bad"`},
		{Alert{Labels: labels.FromStrings("a", "\xff"), StartsAt: t0}, `invalid label set: invalid value`},
		{Alert{Labels: ok, Annotations: labels.FromStrings("no-dash", "x"), StartsAt: t0}, `invalid annotations: invalid name "no-dash"`},
	}
	for _, tc := range tests {
		err := tc.a.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: unexpected %v", tc.a.Labels, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.a.Labels, err, tc.want)
		}
	}
}

func TestRuleAlertAsAlert(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ls := labels.FromStrings("alertname", "X")
	ra := RuleAlert{Rule: "X", Labels: ls, State: StateFiring, ActiveAt: t0, FiredAt: t0.Add(time.Minute), Annotations: map[string]string{"summary": "s"}}
	now := t0.Add(2 * time.Minute)
	a := ra.Alert(now, 4*time.Minute)
	if !a.StartsAt.Equal(ra.FiredAt) || !a.EndsAt.Equal(now.Add(4*time.Minute)) || a.StateAt(now) != StateFiring || a.Summary() != "s" {
		t.Errorf("firing: %+v", a)
	}
	ra.State, ra.ResolvedAt = StateResolved, now
	a = ra.Alert(now.Add(time.Minute), 4*time.Minute)
	if !a.EndsAt.Equal(now) || a.StateAt(now.Add(time.Minute)) != StateResolved {
		t.Errorf("resolved: %+v", a)
	}
}
