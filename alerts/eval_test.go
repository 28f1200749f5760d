package alerts

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// script answers each query with the vector set for the current step.
type script struct {
	vec metrics.Vector
	err error
}

func (s *script) Instant(_ context.Context, _ string, _ time.Time) (metrics.Vector, error) {
	return s.vec, s.err
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func sample(v float64, kv ...string) metrics.Sample {
	return metrics.Sample{Labels: labels.FromStrings(append([]string{"__name__", "x"}, kv...)...), Value: v}
}

func TestEvaluatorLifecycle(t *testing.T) {
	rule := Rule{
		Name: "HighErrors", Expr: "x > 0.05", For: 30 * time.Second, KeepFiringFor: 0,
		Labels:      map[string]string{"severity": "page", "team": "{{ $labels.service }}-team"},
		Annotations: map[string]string{"summary": "errors at {{ $value | humanizePercentage }} on {{ $labels.service }}"},
	}
	firing := metrics.Vector{sample(0.12, "service", "matchmaking")}
	steps := []struct {
		at        time.Duration
		vec       metrics.Vector
		wantState []State
	}{
		{0, nil, nil},
		{10 * time.Second, firing, []State{StatePending}},
		{20 * time.Second, firing, []State{StatePending}},
		{40 * time.Second, firing, []State{StateFiring}},  // 30s after active
		{50 * time.Second, nil, []State{StateResolved}},   // resolved, retained
		{60 * time.Second, firing, []State{StatePending}}, // a new streak starts over
		{70 * time.Second, nil, nil},                      // pending alerts vanish
	}
	src := &script{}
	ev := NewEvaluator([]Rule{rule}, src)
	for _, st := range steps {
		src.vec = st.vec
		got, err := ev.Eval(context.Background(), t0.Add(st.at))
		if err != nil {
			t.Fatalf("t+%v: %v", st.at, err)
		}
		if len(got) != len(st.wantState) {
			t.Fatalf("t+%v: got %d alerts %+v, want %d", st.at, len(got), got, len(st.wantState))
		}
		for i, a := range got {
			if a.State != st.wantState[i] {
				t.Errorf("t+%v: state %v, want %v", st.at, a.State, st.wantState[i])
			}
		}
	}
	// Labels and annotations are expanded from the sample.
	src.vec = firing
	got, _ := ev.Eval(context.Background(), t0.Add(80*time.Second))
	a := got[0]
	if a.Labels.Get("team") != "matchmaking-team" || a.Labels.Get("alertname") != "HighErrors" || a.Labels.Has("__name__") {
		t.Errorf("labels = %v", a.Labels)
	}
	if a.Annotations["summary"] != "errors at 12% on matchmaking" {
		t.Errorf("summary = %q", a.Annotations["summary"])
	}
}

func TestEvaluatorForZeroFiresAtOnce(t *testing.T) {
	src := &script{vec: metrics.Vector{sample(1)}}
	ev := NewEvaluator([]Rule{{Name: "Now", Expr: "x"}}, src)
	got, _ := ev.Eval(context.Background(), t0)
	if len(got) != 1 || got[0].State != StateFiring || !got[0].FiredAt.Equal(t0) {
		t.Fatalf("got %+v", got)
	}
}

func TestEvaluatorKeepFiringFor(t *testing.T) {
	src := &script{vec: metrics.Vector{sample(1)}}
	ev := NewEvaluator([]Rule{{Name: "Flappy", Expr: "x", KeepFiringFor: time.Minute}}, src)
	ev.Eval(context.Background(), t0)
	src.vec = nil
	for _, tc := range []struct {
		at   time.Duration
		want State
	}{{30 * time.Second, StateFiring}, {80 * time.Second, StateFiring}, {95 * time.Second, StateResolved}} {
		got, _ := ev.Eval(context.Background(), t0.Add(tc.at))
		if got[0].State != tc.want {
			t.Errorf("t+%v: %v, want %v", tc.at, got[0].State, tc.want)
		}
	}
}

func TestEvaluatorResolvedRetention(t *testing.T) {
	src := &script{vec: metrics.Vector{sample(1)}}
	ev := NewEvaluator([]Rule{{Name: "A", Expr: "x"}}, src)
	ev.Eval(context.Background(), t0)
	src.vec = nil
	if got, _ := ev.Eval(context.Background(), t0.Add(time.Minute)); len(got) != 1 {
		t.Fatalf("resolved alert not retained: %+v", got)
	}
	if got, _ := ev.Eval(context.Background(), t0.Add(time.Minute+ResolvedRetention+time.Second)); len(got) != 0 {
		t.Fatalf("resolved alert kept past retention: %+v", got)
	}
}

func TestEvaluatorErrorsKeepState(t *testing.T) {
	src := &script{vec: metrics.Vector{sample(1)}}
	rule := Rule{Name: "A", Expr: "x", File: "rules.yml", Line: 7}
	ev := NewEvaluator([]Rule{rule}, src)
	ev.Eval(context.Background(), t0)
	src.err = errors.New("connection refused")
	got, err := ev.Eval(context.Background(), t0.Add(time.Minute))
	if err == nil || err.Error() != `rules.yml:7: rule "A": connection refused` {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 1 || got[0].State != StateFiring {
		t.Fatalf("state lost on error: %+v", got)
	}
}

func TestEvaluatorDuplicateLabelsets(t *testing.T) {
	src := &script{vec: metrics.Vector{sample(1, "a", "1"), {Labels: labels.FromStrings("__name__", "y", "a", "1"), Value: 2}}}
	ev := NewEvaluator([]Rule{{Name: "Dup", Expr: "x or y"}}, src)
	if _, err := ev.Eval(context.Background(), t0); err == nil {
		t.Fatal("want duplicate labelset error")
	}
}

func TestEvaluatorRestore(t *testing.T) {
	rule := Rule{Name: "A", Expr: "x", For: time.Minute}
	src := &script{vec: metrics.Vector{sample(1)}}
	first := NewEvaluator([]Rule{rule}, src)
	saved, _ := first.Eval(context.Background(), t0)
	// A new process restores the pending alert: its `for` clock carries on.
	second := NewEvaluator([]Rule{rule}, src)
	second.Restore(saved)
	got, _ := second.Eval(context.Background(), t0.Add(time.Minute))
	if len(got) != 1 || got[0].State != StateFiring || !got[0].ActiveAt.Equal(t0) {
		t.Fatalf("after restore: %+v", got)
	}
}
