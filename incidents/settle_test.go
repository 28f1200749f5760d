package incidents

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// updates lists "kind of" of page updates.
func updates(pages []Page) []string {
	var out []string
	for _, p := range pages {
		if !p.IsUpdate() || p.Key != p.Of+"/"+p.Kind {
			continue
		}
		out = append(out, p.Kind+" "+p.Of)
	}
	return out
}

// Every page is acknowledged once the incident is, and resolved once it
// is: each update once, through an ack timeout and a second round.
func TestSettleClosesEveryPageOnce(t *testing.T) {
	s := settings(0, 10*time.Minute)
	inc := &Incident{ID: 7, Title: "Checkout failing", Status: StatusTriggered}
	if _, err := inc.Start(s, "default", t0); err != nil {
		t.Fatal(err)
	}
	inc.Escalate(s, t0.Add(2*time.Minute)) // bob
	if got := inc.Settle(); got != nil {
		t.Fatalf("a triggered incident owes nothing: %v", updates(got))
	}
	if err := inc.Acknowledge(s, Actor{Name: "bob"}, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	acks := inc.Settle()
	if got, want := updates(acks), []string{"acknowledge INC-7/p1/alice", "acknowledge INC-7/p2/bob"}; !slices.Equal(got, want) {
		t.Fatalf("after the ack: %q, want %q", got, want)
	}
	if acks[1].Target != "bob" || acks[1].Body != "acknowledged by bob" || !acks[1].CreatedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("update: %+v", acks[1])
	}
	if got := inc.Settle(); got != nil {
		t.Fatalf("owed twice: %v", updates(got))
	}
	drill := &Incident{ID: 8, Title: "failover", Status: StatusTriggered, Drill: true}
	drill.Start(s, "default", t0)
	drill.Resolve(cli, "", t0)
	if u := drill.Settle(); len(u) != 1 || u[0].Subject != "[DRILL] [INC-8] failover" {
		t.Errorf("a drill's update: %+v", u)
	}
	// The acknowledgement times out: alice is paged again, a new page.
	if pages := inc.Escalate(s, t0.Add(13*time.Minute)); len(pages) != 1 || pages[0].Key != "INC-7/p3/alice" {
		t.Fatalf("ack timeout: %+v", pages)
	}
	if got := inc.Settle(); got != nil {
		t.Fatalf("triggered again, nothing owed: %v", updates(got))
	}
	if err := inc.Acknowledge(s, Actor{Name: "alice"}, t0.Add(14*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, want := updates(inc.Settle()), []string{"acknowledge INC-7/p3/alice"}; !slices.Equal(got, want) {
		t.Fatalf("second ack: %q, want %q", got, want)
	}
	if err := inc.Resolve(Actor{Name: "alice"}, "", t0.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := []string{"resolve INC-7/p1/alice", "resolve INC-7/p2/bob", "resolve INC-7/p3/alice"}
	if got := updates(inc.Settle()); !slices.Equal(got, want) {
		t.Fatalf("resolved: %q, want %q", got, want)
	}
	if got := inc.Settle(); got != nil {
		t.Fatalf("owed twice: %v", updates(got))
	}
	// Reopened, it pages anew; those pages close with it again.
	if _, err := inc.Reopen(s, cli, "", t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := inc.Mitigate(cli, "", t0.Add(31*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, want := updates(inc.Settle()), []string{"resolve INC-7/p4/alice"}; !slices.Equal(got, want) {
		t.Fatalf("mitigated after the reopen: %q, want %q", got, want)
	}
}

// fakeTx is one incident store in memory, for the transactions of Act,
// Merge and Receive.
type fakeTx struct {
	incs   map[int64]Incident
	queued []Page
}

func firing(name string) []alerts.Alert {
	return []alerts.Alert{{Labels: labels.FromStrings("alertname", name), Annotations: labels.FromStrings("summary", name+" is firing"), StartsAt: t0}}
}

func (f *fakeTx) Incident(_ context.Context, id int64) (Incident, error) {
	inc, ok := f.incs[id]
	if !ok {
		return Incident{}, ErrNotFound
	}
	return inc, nil
}

func (f *fakeTx) OpenIncident(_ context.Context, key string) (Incident, bool, error) {
	for _, inc := range f.incs {
		if inc.Key == key && inc.Open() {
			return inc, true, nil
		}
	}
	return Incident{}, false, nil
}

func (f *fakeTx) CreateIncident(_ context.Context, inc *Incident) error {
	inc.ID = int64(len(f.incs) + 1)
	f.incs[inc.ID] = *inc
	return nil
}

func (f *fakeTx) UpdateIncident(_ context.Context, inc Incident) error {
	f.incs[inc.ID] = inc
	return nil
}

func (f *fakeTx) UpdateIncidents(_ context.Context, fn func(Tx) ([]Page, error)) error {
	pages, err := fn(f)
	f.queued = append(f.queued, pages...)
	return err
}

// The transactions that close incidents queue the updates they owe: an
// acknowledgement through Act, a merge, and the alerts resolving.
func TestTransactionsQueuePageUpdates(t *testing.T) {
	s := settings(0, 0)
	ctx := context.Background()
	st := &fakeTx{incs: map[int64]Incident{}}
	a := Alarm{Receiver: "team", GroupKey: `{}:{alertname="Down"}`, Firing: firing("Down")}
	inc, pages, err := Receive(ctx, st, s, "default", a, t0)
	if err != nil || len(pages) != 1 || pages[0].IsUpdate() {
		t.Fatalf("opened: %v %+v", err, pages)
	}
	if _, err := Act(ctx, st, inc.ID, func(i *Incident) ([]Page, error) { return nil, i.Acknowledge(s, cli, t0.Add(time.Minute)) }); err != nil {
		t.Fatal(err)
	}
	if got, want := updates(st.queued), []string{"acknowledge INC-1/p1/alice"}; !slices.Equal(got, want) {
		t.Fatalf("act: %q, want %q", got, want)
	}
	// The alerts resolve: an acknowledged incident stays open, nothing owed.
	if _, pages, _ := Receive(ctx, st, s, "default", Alarm{Receiver: a.Receiver, GroupKey: a.GroupKey}, t0.Add(2*time.Minute)); pages != nil {
		t.Fatalf("acknowledged and the alerts resolved: %+v", pages)
	}
	// A second incident, resolved by its alerts: its page is resolved.
	b := Alarm{Receiver: "team", GroupKey: `{}:{alertname="Slow"}`, Firing: firing("Slow")}
	if _, _, err := Receive(ctx, st, s, "default", b, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, pages, err = Receive(ctx, st, s, "default", Alarm{Receiver: b.Receiver, GroupKey: b.GroupKey}, t0.Add(4*time.Minute))
	if got, want := updates(pages), []string{"resolve INC-2/p1/alice"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("resolved by its alerts: %v %q, want %q", err, got, want)
	}
	// A third, merged into the first: its page is resolved with it.
	c := Alarm{Receiver: "team", GroupKey: `{}:{alertname="Errors"}`, Firing: firing("Errors")}
	third, _, err := Receive(ctx, st, s, "default", c, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	st.queued = nil
	if _, err := Merge(ctx, st, third.ID, inc.ID, cli, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, want := updates(st.queued), []string{"resolve INC-3/p1/alice"}; !slices.Equal(got, want) {
		t.Fatalf("merged: %q, want %q", got, want)
	}
	if st.queued[0].Body != "merged into INC-1" {
		t.Errorf("merged update says %q", st.queued[0].Body)
	}
}
