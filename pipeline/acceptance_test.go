package pipeline

// Acceptance tests in the style of Alertmanager's test/with_api_v2
// acceptance suite: a real pipeline (Pipeline.Run, its relay loop, a
// SQLite store on disk) is given alerts and human actions at chosen
// instants, and the test asserts who was paged at which minute, by which
// step. They run in a testing/synctest bubble, so days of escalation take
// a moment; the pipeline's clock is the bubble's fake clock moved to the
// dates the scenarios need (Options.Now).

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
)

// maxLateness is how late a page may be delivered after the minute it is
// due at (every due instant of these scenarios is a whole minute). Under
// the fake clock only waits for the store's lock (SQLite's busy handler
// sleeps a millisecond or a few) could make a page late.
const maxLateness = 50 * time.Millisecond

// delivered is one page as the recording deliverer saw it.
type delivered struct {
	at       time.Time // the pipeline's clock when delivered
	incident int64
	target   string
	step     string
}

// pageRecorder is a notify.Deliverer that records every page it is given,
// with the pipeline's clock.
type pageRecorder struct {
	clock func() time.Time
	mu    sync.Mutex
	got   []delivered
	keys  map[string]bool
	dups  []string
}

func (r *pageRecorder) Deliver(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]bool{}
	}
	if r.keys[m.Key] {
		r.dups = append(r.dups, m.Key)
	}
	r.keys[m.Key] = true
	if pg := m.Page; m.Kind == notify.KindPage {
		r.got = append(r.got, delivered{at: r.clock(), incident: pg.IncidentID, target: pg.Target, step: pg.StepName})
	}
	return nil
}

func (r *pageRecorder) route(notify.Message) (notify.Deliverer, string, error) {
	return r, "pager", nil
}

func (r *pageRecorder) pages() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// acceptance is one scenario's world: a store, a running pipeline whose
// clock is the bubble's moved to the scenario's dates, and a recorder.
type acceptance struct {
	t      *testing.T
	st     *sqlite.Store
	p      *Pipeline
	rec    *pageRecorder
	people incidents.Settings
	offset time.Duration // pipeline clock = bubble clock + offset
	origin time.Time     // minute 0 of the scenario
	zone   *time.Location
	stop   func()
}

// clock is the pipeline's clock.
func (a *acceptance) clock() time.Time { return time.Now().Add(a.offset).UTC() }

// acceptancePolicy is the four-step policy of every scenario: primary and
// secondary of a schedule, the team manager, then the incident commander
// the directory adds to every policy; five minutes a step.
func acceptancePolicy(sched string, repeat int, ackTimeout time.Duration) schedule.Policy {
	return schedule.Policy{Name: "team", Repeat: repeat, AckTimeout: ackTimeout, Steps: []schedule.Step{
		{Name: "primary", Targets: []schedule.Target{{Schedule: sched}}, Delay: 5 * time.Minute},
		{Name: "secondary", Targets: []schedule.Target{{Schedule: sched, Offset: 1}}, Delay: 5 * time.Minute},
		{Name: "manager", Targets: []schedule.Target{{User: "dana"}}, Delay: 5 * time.Minute},
	}}
}

// acceptanceDirectory has a schedule named sched, the team policy over
// it and an incident-commander schedule (riley, then sam, fortnightly:
// riley from 23 March to 6 April and from 2 to 16 November 2026).
func acceptanceDirectory(sched schedule.Schedule, pol schedule.Policy) incidents.Settings {
	names := append(slices.Clone(sched.Users), "dana", "riley", "sam")
	us := map[string]schedule.User{}
	for _, n := range names {
		us[n] = schedule.User{Name: n}
	}
	ic := schedule.Schedule{Name: "ic", Users: []string{"riley", "sam"}, Shift: schedule.Days(14), Start: schedule.At(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}
	return incidents.Settings{People: schedule.Directory{
		Users:     us,
		Schedules: map[string]schedule.Schedule{sched.Name: sched, "ic": ic},
		Policies:  map[string]schedule.Policy{pol.Name: pol},
		Commander: &schedule.Step{Name: "incident commander", Targets: []schedule.Target{{Schedule: "ic"}}, Delay: 5 * time.Minute},
	}}
}

const acceptanceRouting = `
route:
  receiver: default
  group_by: [service]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 1h
  routes:
    - matchers: [severity="page"]
      receiver: pager
receivers:
  - name: default
  - name: pager
`

// startAcceptance opens a store in dir and runs a pipeline over it with
// people, its clock at origin now. It must be called inside a bubble.
func startAcceptance(t *testing.T, dir string, people incidents.Settings, origin time.Time, zone *time.Location) *acceptance {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(dir, "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The bubble's clock starts at 2000-01-01 00:00 UTC: the offset is
	// whole milliseconds, as it must be (see
	// TestAcceptanceSubMillisecondClockDoesNotSpin).
	a := &acceptance{t: t, st: st, people: people, origin: origin, zone: zone, offset: origin.Sub(time.Now())}
	a.rec = &pageRecorder{clock: a.clock}
	a.run(people)
	return a
}

// run starts a pipeline over the store with people; a running one is
// stopped first (a restart with a new configuration).
func (a *acceptance) run(people incidents.Settings) {
	a.t.Helper()
	if a.stop != nil {
		a.stop()
	}
	cfg, err := routing.Parse("am.yml", []byte(acceptanceRouting))
	if err != nil {
		a.t.Fatal(err)
	}
	a.people = people
	p, err := New(Options{
		Routing: cfg, Store: a.st, Incidents: people, Route: a.rec.route, Now: a.clock,
		Receivers: []Receiver{{Name: "pager", Policy: "team"}},
	})
	if err != nil {
		a.t.Fatal(err)
	}
	a.p = p
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	a.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			a.t.Errorf("run: %v", err)
		}
	}
	a.t.Cleanup(a.stop)
	synctest.Wait() // the lease is taken
	if !p.Leader() {
		a.t.Fatalf("the pipeline did not take the lease: %v", p.LastError())
	}
}

// sleepUntil lets the fake clock run to minute m of the scenario (a
// duration after the origin).
func (a *acceptance) sleepUntil(m time.Duration) {
	a.t.Helper()
	d := a.origin.Add(m).Sub(a.clock())
	if d < 0 {
		a.t.Fatalf("sleep until +%v: already +%v", m, a.clock().Sub(a.origin))
	}
	time.Sleep(d)
}

// fire posts a paging alert for service, firing for a week.
func (a *acceptance) fire(service string) {
	now := a.clock()
	a.p.Put(now, []alerts.Alert{{
		Labels:      labels.FromStrings("alertname", "MatchesDown", "severity", "page", "service", service),
		Annotations: labels.FromStrings("summary", service+" is down"),
		StartsAt:    now, EndsAt: now.Add(7 * 24 * time.Hour), UpdatedAt: now,
	}})
}

// incident returns the open incident of service.
func (a *acceptance) incident(service string) incidents.Incident {
	a.t.Helper()
	incs, err := a.st.Incidents(context.Background(), store.IncidentFilter{OpenOnly: true})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, inc := range incs {
		if inc.Service == service {
			return inc
		}
	}
	a.t.Fatalf("no open incident for %s (open: %d)", service, len(incs))
	return incidents.Incident{}
}

// ack acknowledges service's incident as by, through the store as the
// API does, and tells the pipeline.
func (a *acceptance) ack(service, by string) {
	a.t.Helper()
	id := a.incident(service).ID
	if _, err := incidents.Acknowledge(context.Background(), store.Incidents(a.st), a.people, id, incidents.Actor{Name: by, Source: "api"}, a.clock()); err != nil {
		a.t.Fatalf("+%v: ack by %s: %v", a.clock().Sub(a.origin), by, err)
	}
	a.p.IncidentsChanged()
}

// log renders the pages delivered as "+minute local-time → person
// (step)", and checks that each page went out on its minute, at most
// maxLateness late, and that no message was delivered twice.
func (a *acceptance) log() []string {
	a.t.Helper()
	synctest.Wait()
	var out []string
	var latest time.Duration
	for _, d := range a.rec.pages() {
		since := d.at.Sub(a.origin)
		m := since.Truncate(time.Minute)
		late := since - m
		if late > maxLateness {
			a.t.Errorf("page to %s (%s) delivered %v after its minute +%v", d.target, d.step, late, m)
		}
		latest = max(latest, late)
		out = append(out, fmt.Sprintf("%+5dm %s %s → %s (%s)", int(m/time.Minute), d.at.In(a.zone).Format("Mon 15:04 MST"), incidents.Ref(d.incident), d.target, d.step))
	}
	a.t.Logf("%d pages, the latest %v after its minute", len(out), latest)
	if len(a.rec.dups) > 0 {
		a.t.Errorf("delivered twice: %v", a.rec.dups)
	}
	return out
}

func (a *acceptance) expect(want []string) {
	a.t.Helper()
	got := a.log()
	if !slices.Equal(got, want) {
		a.t.Errorf("pages:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// restartAt stops the pipeline, lets the clock run to minute m with no
// process running (a restart over quiet hours, say), and starts it again
// with people. It stops half a second off the pipeline's one-second beat:
// a shutdown that lands on a lease renewal leaves the lease held (see
// TestAcceptanceShutdownReleasesLease).
func (a *acceptance) restartAt(m time.Duration, people incidents.Settings) {
	a.t.Helper()
	time.Sleep(500 * time.Millisecond)
	a.stop()
	a.sleepUntil(m)
	a.run(people)
}

func weeklyPlatform() schedule.Schedule {
	// alice until Monday 9 November 2026 09:00Z, then bob, then carol.
	return schedule.Schedule{Name: "platform", Users: []string{"alice", "bob", "carol"}, Start: schedule.At(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}
}

// A weekly rotation hands over from alice to bob at 09:00Z on Monday 9
// November 2026 while an incident escalates: the second round of the
// policy (repeat: 1) pages bob as primary and carol as secondary, and the
// escalation stops after the last step of the last round.
func TestAcceptanceRepeatAcrossRotationHandOff(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		people := acceptanceDirectory(weeklyPlatform(), acceptancePolicy("platform", 1, 0))
		a := startAcceptance(t, dir, people, time.Date(2026, 11, 9, 8, 50, 0, 0, time.UTC), time.UTC)
		a.fire("matchmaking")
		a.sleepUntil(50 * time.Minute)
		a.expect([]string{
			"   +0m Mon 08:50 UTC INC-1 → alice (primary)",
			"   +5m Mon 08:55 UTC INC-1 → bob (secondary)",
			"  +10m Mon 09:00 UTC INC-1 → dana (manager)",
			"  +15m Mon 09:05 UTC INC-1 → riley (incident commander)",
			// Round two, after the hand-off: bob is on call, carol next.
			"  +20m Mon 09:10 UTC INC-1 → bob (primary)",
			"  +25m Mon 09:15 UTC INC-1 → carol (secondary)",
			"  +30m Mon 09:20 UTC INC-1 → dana (manager)",
			"  +35m Mon 09:25 UTC INC-1 → riley (incident commander)",
		})
		inc := a.incident("matchmaking")
		if inc.Status != incidents.StatusTriggered || !inc.Escalation.NextAt.IsZero() || inc.Escalation.Round != 1 || inc.Escalation.Seq != 8 {
			t.Errorf("after the last round: status %v, round %d, seq %d, next %v", inc.Status, inc.Escalation.Round, inc.Escalation.Seq, inc.Escalation.NextAt)
		}
	})
}

// An acknowledgement that expires (ack_timeout 30m) triggers the incident
// again after the weekly hand-off: the page goes to the new primary, and
// the secondary is the one after them. Another service's incident,
// opened after the hand-off, pages bob too and resolves with its alert.
func TestAcceptanceAckTimeoutAcrossRotationHandOff(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		people := acceptanceDirectory(weeklyPlatform(), acceptancePolicy("platform", 0, 30*time.Minute))
		origin := time.Date(2026, 11, 9, 8, 50, 0, 0, time.UTC)
		a := startAcceptance(t, dir, people, origin, time.UTC)
		a.fire("matchmaking")
		a.sleepUntil(7 * time.Minute)
		a.ack("matchmaking", "bob") // the secondary answers; it holds until 09:27Z
		a.sleepUntil(20 * time.Minute)
		a.fire("search")
		a.sleepUntil(23*time.Minute + 30*time.Second)
		a.p.Put(a.clock(), []alerts.Alert{{ // search recovers: its incident resolves at the next flush
			Labels:   labels.FromStrings("alertname", "MatchesDown", "severity", "page", "service", "search"),
			StartsAt: origin.Add(20 * time.Minute), EndsAt: a.clock(), UpdatedAt: a.clock(),
		}})
		a.sleepUntil(39 * time.Minute)
		a.ack("matchmaking", "bob")
		a.sleepUntil(50 * time.Minute)
		a.expect([]string{
			"   +0m Mon 08:50 UTC INC-1 → alice (primary)",
			"   +5m Mon 08:55 UTC INC-1 → bob (secondary)",
			"  +20m Mon 09:10 UTC INC-2 → bob (primary)",
			// The acknowledgement expired: triggered again, from the first step.
			"  +37m Mon 09:27 UTC INC-1 → bob (primary)",
		})
		inc := a.incident("matchmaking")
		if inc.Status != incidents.StatusAcknowledged || !inc.Escalation.NextAt.Equal(origin.Add(69*time.Minute)) {
			t.Errorf("INC-1: %v, next %v", inc.Status, inc.Escalation.NextAt)
		}
		if search, err := a.st.Incident(context.Background(), 2); err != nil || search.Status != incidents.StatusResolved || !search.ResolvedAt.Equal(origin.Add(24*time.Minute)) {
			t.Errorf("INC-2: %v %v at %v", err, search.Status, search.ResolvedAt)
		}
	})
}

// Europe/Berlin moves its clocks from 02:00 CET to 03:00 CEST on Sunday 29
// March 2026. A daily rotation with a 09:00 local hand-off hands over at
// 08:00Z on Saturday and at 07:00Z on Sunday; escalation delays and the
// ack timeout are elapsed time. An incident opened on Saturday morning
// runs over the change: the test asserts each page at its minute, with
// the Berlin wall clock beside it; another incident escalates across the
// change itself. The pipeline is restarted over the quiet hours (the
// escalation timers are in the store), which keeps the test quick under
// the race detector: the loop wakes every second while it leads.
func TestAcceptanceDaylightSavingChange(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		// anna from Monday 23 March 09:00 CET, then ben, then clara, a day each:
		// ben Friday 27th, clara Saturday 28th, anna Sunday 29th (from 09:00 CEST).
		daily := schedule.Schedule{Name: "berlin", Users: []string{"anna", "ben", "clara"}, Shift: schedule.Days(1),
			Start: schedule.WallClock(2026, 3, 23, 9, 0), TimeZone: "Europe/Berlin"}
		people := acceptanceDirectory(daily, acceptancePolicy("berlin", 1, 11*time.Hour))
		origin := time.Date(2026, 3, 28, 7, 55, 0, 0, time.UTC) // 08:55 CET
		a := startAcceptance(t, dir, people, origin, berlin)
		a.fire("matchmaking")
		a.sleepUntil(57 * time.Minute)
		a.ack("matchmaking", "riley") // 09:52 CET: ack timeout at 20:52 CET
		a.sleepUntil(58 * time.Minute)
		a.restartAt(710*time.Minute, people) // 20:45 CET
		a.sleepUntil(721 * time.Minute)
		a.ack("matchmaking", "clara") // 20:56 CET: 11 hours later is 08:56 CEST
		a.sleepUntil(722 * time.Minute)
		a.restartAt(1010*time.Minute, people) // Sunday 01:45 CET
		// Another service fails just before the change and escalates across it.
		a.sleepUntil(1017 * time.Minute)
		a.fire("search")
		a.sleepUntil(1034 * time.Minute)
		a.ack("search", "riley")
		a.sleepUntil(1035 * time.Minute)
		a.restartAt(1375*time.Minute, people) // 08:50 CEST
		a.sleepUntil(1388 * time.Minute)
		a.ack("matchmaking", "ben")
		a.sleepUntil(1395 * time.Minute)
		a.expect([]string{
			"   +0m Sat 08:55 CET INC-1 → ben (primary)",
			// Clara's shift began at 09:00 CET (08:00Z): the next one is anna's.
			"   +5m Sat 09:00 CET INC-1 → anna (secondary)",
			"  +10m Sat 09:05 CET INC-1 → dana (manager)",
			"  +15m Sat 09:10 CET INC-1 → riley (incident commander)",
			"  +20m Sat 09:15 CET INC-1 → clara (primary)",
			"  +25m Sat 09:20 CET INC-1 → anna (secondary)",
			"  +30m Sat 09:25 CET INC-1 → dana (manager)",
			"  +35m Sat 09:30 CET INC-1 → riley (incident commander)",
			// Acknowledged at 09:52 CET; eleven hours later it triggers again.
			" +717m Sat 20:52 CET INC-1 → clara (primary)",
			// Five minutes after 01:57 CET it is 03:02 CEST.
			"+1017m Sun 01:52 CET INC-2 → clara (primary)",
			"+1022m Sun 01:57 CET INC-2 → anna (secondary)",
			"+1027m Sun 03:02 CEST INC-2 → dana (manager)",
			"+1032m Sun 03:07 CEST INC-2 → riley (incident commander)",
			// Acknowledged at 20:56 CET; eleven elapsed hours later is 08:56
			// CEST, twelve by the wall clock. Clara is on call until 09:00 CEST.
			"+1381m Sun 08:56 CEST INC-1 → clara (primary)",
			// Anna's shift began at 09:00 CEST (07:00Z): the next one is ben's.
			"+1386m Sun 09:01 CEST INC-1 → ben (secondary)",
		})
		inc := a.incident("matchmaking")
		if want := origin.Add(1388*time.Minute + 11*time.Hour); inc.Status != incidents.StatusAcknowledged || !inc.Escalation.NextAt.Equal(want) {
			t.Errorf("incident %v, next %v, want acknowledged until %v", inc.Status, inc.Escalation.NextAt, want)
		}
		// The hand-offs are where the pages say, at 09:00 local time.
		for _, c := range []struct {
			at   time.Time
			want string
		}{
			{time.Date(2026, 3, 28, 7, 59, 59, 0, time.UTC), "ben"},
			{time.Date(2026, 3, 28, 8, 0, 0, 0, time.UTC), "clara"},
			{time.Date(2026, 3, 29, 6, 59, 59, 0, time.UTC), "clara"},
			{time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC), "anna"},
		} {
			if got, _ := people.People.OnCall("berlin", c.at, 0); !slices.Equal(got, []string{c.want}) {
				t.Errorf("on call at %v: %v, want %s", c.at.In(berlin), got, c.want)
			}
		}
	})
}

// An incident keeps the policy it was opened with: oncall restarted with
// an edited policy (one step, no incident commander, an ack timeout)
// escalates the running incident through the old steps to the incident
// commander, while a new incident follows the new policy.
func TestAcceptanceFrozenPolicySurvivesConfigChange(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		v1 := acceptanceDirectory(weeklyPlatform(), acceptancePolicy("platform", 0, 0))
		v2 := acceptanceDirectory(weeklyPlatform(), schedule.Policy{Name: "team", Repeat: 1, AckTimeout: 3 * time.Minute, NoIncidentCommander: true,
			Steps: []schedule.Step{{Name: "all hands", Targets: []schedule.Target{{User: "sam"}}, Delay: 2 * time.Minute}}})
		a := startAcceptance(t, dir, v1, time.Date(2026, 11, 10, 14, 0, 0, 0, time.UTC), time.UTC)
		a.fire("matchmaking")
		a.sleepUntil(7 * time.Minute)
		a.restartAt(7*time.Minute+time.Second, v2)
		a.sleepUntil(12 * time.Minute)
		a.fire("search")
		a.sleepUntil(22 * time.Minute)
		a.ack("matchmaking", "riley")
		a.sleepUntil(30 * time.Minute)
		a.expect([]string{
			"   +0m Tue 14:00 UTC INC-1 → bob (primary)",
			"   +5m Tue 14:05 UTC INC-1 → carol (secondary)",
			// Restarted with v2 at +7m; INC-1 goes on with v1's steps.
			"  +10m Tue 14:10 UTC INC-1 → dana (manager)",
			"  +12m Tue 14:12 UTC INC-2 → sam (all hands)",
			"  +14m Tue 14:14 UTC INC-2 → sam (all hands)",
			"  +15m Tue 14:15 UTC INC-1 → riley (incident commander)",
			"  +20m Tue 14:20 UTC INC-1 → riley (incident commander)",
			// Acknowledged at +22m: v2's ack timeout would trigger it again
			// at +25m, v1 has none.
		})
		if inc := a.incident("matchmaking"); inc.Status != incidents.StatusAcknowledged || !inc.Escalation.NextAt.IsZero() || inc.Escalation.Steps != 4 {
			t.Errorf("INC-1: %v, next %v, %d steps", inc.Status, inc.Escalation.NextAt, inc.Escalation.Steps)
		}
	})
}

// renewalCancels is a store whose next lease renewal, once armed, comes
// with the process shutting down: it cancels the pipeline's context
// first, as a SIGTERM landing during the renewal would.
type renewalCancels struct {
	store.Store
	mu     sync.Mutex
	cancel func()
}

func (s *renewalCancels) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.mu.Unlock()
	return s.Store.AcquireLease(ctx, name, holder, ttl, now)
}

// A pipeline shut down while it renews its lease still writes the alerts
// it holds and releases the lease, so that a standby takes over at once.
func TestAcceptanceShutdownReleasesLease(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st, err := sqlite.Open(filepath.Join(dir, "oncall.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg, err := routing.Parse("am.yml", []byte(acceptanceRouting))
		if err != nil {
			t.Fatal(err)
		}
		wrapped := &renewalCancels{Store: st}
		p, err := New(Options{Routing: cfg, Store: wrapped, Incidents: directory(), Route: (&pageRecorder{clock: time.Now}).route})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		time.Sleep(4500 * time.Millisecond) // half a second before the first renewal
		now := time.Now()
		p.Put(now, []alerts.Alert{{Labels: labels.FromStrings("alertname", "Slow", "service", "db"), StartsAt: now, EndsAt: now.Add(time.Hour), UpdatedAt: now}})
		time.Sleep(100 * time.Millisecond)
		wrapped.mu.Lock()
		wrapped.cancel = cancel
		wrapped.mu.Unlock()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if holder, until, err := st.Lease(context.Background(), leaseName); err != nil || holder != "" {
			t.Errorf("after the shutdown the lease is held by %q until %v (%v): a standby waits it out", holder, until, err)
		}
		if as, err := st.Alerts(context.Background()); err != nil || len(as) != 1 {
			t.Errorf("after the shutdown the store holds %d alerts (%v), want the one received", len(as), err)
		}
	})
}

// dueCounter is a store that counts how often the pipeline asks for due
// escalations at one instant, and stops it when it asks too often.
type dueCounter struct {
	store.Store
	mu     sync.Mutex
	at     time.Time
	n, max int
	stop   func()
}

func (s *dueCounter) DueEscalations(ctx context.Context, now time.Time) ([]int64, error) {
	s.mu.Lock()
	if now.Equal(s.at) {
		s.n++
	} else {
		s.at, s.n = now, 1
	}
	s.max = max(s.max, s.n)
	if s.n == 100 {
		s.stop()
	}
	s.mu.Unlock()
	return s.Store.DueEscalations(ctx, now)
}

// A clock with sub-millisecond precision (time.Now has nanoseconds) puts
// an escalation timer between two milliseconds; the store keeps it
// rounded down. The pipeline then wakes before the timer, finds the
// incident due in the store but not yet due by Incident.Escalate, writes
// it back unchanged, and goes round again at once: under a fake clock for
// ever, under the real one until the clock passes the timer.
func TestAcceptanceSubMillisecondClockDoesNotSpin(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st, err := sqlite.Open(filepath.Join(dir, "oncall.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg, err := routing.Parse("am.yml", []byte(acceptanceRouting))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		counter := &dueCounter{Store: st, stop: cancel}
		a := &acceptance{t: t, st: st, origin: time.Date(2026, 11, 10, 14, 0, 0, 0, time.UTC), zone: time.UTC}
		a.offset = a.origin.Sub(time.Now()) + 500*time.Microsecond
		a.rec = &pageRecorder{clock: a.clock}
		if a.p, err = New(Options{Routing: cfg, Store: counter, Incidents: acceptanceDirectory(weeklyPlatform(), acceptancePolicy("platform", 0, 0)),
			Route: a.rec.route, Now: a.clock, Receivers: []Receiver{{Name: "pager", Policy: "team"}}}); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- a.p.Run(ctx) }()
		synctest.Wait()
		a.fire("matchmaking")
		time.Sleep(6 * time.Minute)
		cancel()
		<-done
		counter.mu.Lock()
		defer counter.mu.Unlock()
		if counter.max >= 100 {
			t.Errorf("the loop asked for due escalations %d times at %v (the first escalation is due at +5m0.0005s)", counter.max, counter.at)
		}
		if got := len(a.rec.pages()); got != 2 {
			t.Errorf("%d pages, want 2 (the primary, then the secondary at +5m)", got)
		}
	})
}

// With repeat: 0 the last step is paged again every delay "until someone
// answers". When the last step (the incident commander's schedule) has
// nobody on call at its turn, escalation must go on, so that the
// commander is paged once someone is on call.
func TestAcceptanceCommanderGapDoesNotEndEscalation(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		origin := time.Date(2026, 11, 10, 14, 0, 0, 0, time.UTC)
		people := acceptanceDirectory(weeklyPlatform(), acceptancePolicy("platform", 0, 0))
		// The commanders' holiday roster has nobody until 14:30.
		people.People.Schedules["ic"] = schedule.Schedule{Name: "ic", Temporary: []schedule.Temporary{{Start: origin.Add(-time.Hour), End: origin.Add(24 * time.Hour),
			Shifts: []schedule.Shift{{User: "riley", Start: origin.Add(30 * time.Minute), End: origin.Add(24 * time.Hour)}}}}}
		a := startAcceptance(t, dir, people, origin, time.UTC)
		a.fire("matchmaking")
		a.sleepUntil(40 * time.Minute)
		got := a.log()
		want := []string{
			"   +0m Tue 14:00 UTC INC-1 → bob (primary)",
			"   +5m Tue 14:05 UTC INC-1 → carol (secondary)",
			"  +10m Tue 14:10 UTC INC-1 → dana (manager)",
			"  +30m Tue 14:30 UTC INC-1 → riley (incident commander)",
			"  +35m Tue 14:35 UTC INC-1 → riley (incident commander)",
			"  +40m Tue 14:40 UTC INC-1 → riley (incident commander)",
		}
		if !slices.Equal(got, want) {
			inc := a.incident("matchmaking")
			t.Errorf("pages:\n  %s\nwant:\n  %s\nlast event: %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "), inc.Timeline[len(inc.Timeline)-1].Text)
		}
	})
}
