package notify

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// part fails as told, and counts what it was given.
type part struct {
	errs []error
	got  int
}

func (p *part) Deliver(context.Context, Message) error {
	p.got++
	if len(p.errs) == 0 {
		return nil
	}
	err := p.errs[0]
	p.errs = p.errs[1:]
	return err
}

// Only the part that failed sees a message again; a refusal for good is
// reported once every part is through, and the memory is let go.
func TestFanout(t *testing.T) {
	ctx := context.Background()
	f := NewFanout()
	console, pd := &part{}, &part{errs: []error{errors.New("HTTP 503"), errors.New("HTTP 429")}}
	d := f.To(Part{"console", console}, Part{"pagerduty", pd})
	m := Message{Key: "s/INC-1/p1/ana"}
	for i := range 2 {
		err := d.Deliver(ctx, m)
		if !f.Took(m.Key, "console") || f.Took(m.Key, "pagerduty") {
			t.Errorf("attempt %d: took console %v, pagerduty %v", i+1, f.Took(m.Key, "console"), f.Took(m.Key, "pagerduty"))
		}
		var perm *PermanentError
		if err == nil || errors.As(err, &perm) || !strings.HasPrefix(err.Error(), "pagerduty: HTTP") {
			t.Fatalf("attempt %d: %v, want a retry naming pagerduty", i+1, err)
		}
	}
	if err := d.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	if console.got != 1 || pd.got != 3 {
		t.Errorf("console got it %d times, pagerduty %d; want 1 and 3", console.got, pd.got)
	}
	if len(f.done) != 0 {
		t.Errorf("remembered after delivery: %v", f.done)
	}
	// A refusal and a retry: the refusing part is not asked again.
	bad, flaky := &part{errs: []error{Permanent(errors.New("HTTP 400"))}}, &part{errs: []error{errors.New("timeout")}}
	d = f.To(Part{"bad", bad}, Part{"flaky", flaky})
	if err := d.Deliver(ctx, m); err == nil {
		t.Fatal("want a retry")
	}
	err := d.Deliver(ctx, m)
	var perm *PermanentError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "bad: HTTP 400") || bad.got != 1 || flaky.got != 2 {
		t.Errorf("%v (bad asked %d times, flaky %d)", err, bad.got, flaky.got)
	}
	if len(f.done) != 0 {
		t.Errorf("remembered after a refusal: %v", f.done)
	}
}
