package backtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts"
)

// rulesYAML covers what the state machine has: for, keep_firing_for,
// flapping input, templated labels (one with its own query), a query_offset and a group with its
// own interval, and alerts on a recorded series — in the recording rule's
// group (exact), in another group (instant and range selectors; within a
// step, since the recorded samples come at the recording group's slots).
const rulesYAML = `groups:
  - name: api
    interval: 1m
    rules:
      - record: service:errors:rate5m
        expr: sum by (service) (rate(errors_total[5m]))
      - alert: HighErrors
        expr: service:errors:rate5m{service=~"api|web"} > 0.052
        for: 5m
        labels: {severity: page}
      - alert: InstanceDown
        expr: up == 0
        labels:
          severity: critical
          peers_up: '{{ with query "count(up == 1)" }}{{ . | first | value }}{{ else }}none{{ end }}'

      - alert: QueueBacklog
        expr: queue_depth > 50
        for: 3m
        keep_firing_for: 10m
        labels: {severity: warning, level: '{{ if gt $value 80.0 }}high{{ else }}low{{ end }}'}
  - name: slow
    interval: 2m
    query_offset: 1m
    rules:
      - alert: SlowRequests
        expr: latency_seconds > 0.5
        for: 4m
        labels: {severity: page}
  - name: other
    interval: 30s
    rules:
      - alert: ErrorsNotWeb
        expr: service:errors:rate5m{service!="web"} > 0.052
        for: 1m
      - alert: ErrorsSustained
        expr: min_over_time(service:errors:rate5m[10m]) > 0.02
`

// crossGroup are the alerts that read a recorded series of another group.
var crossGroup = map[string]bool{"ErrorsNotWeb": true, "ErrorsSustained": true}

// randomHistory is minutes of flapping synthetic series at 1m in promqltest's
// notation, gauges with gaps and staleness markers. The counters have
// none: where samples are missing, rate's extrapolation depends on where
// in the minute it is evaluated, and an alert on another group's recorded
// series reads it at the recording group's slots — the one place where
// the expanded expression is not what the alert reads (see expander), so
// an episode could split there and not in the reference.
func randomHistory(seed uint64, minutes int) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString("load 1m\n")
	runs := func(name string, gaps bool, next func(on bool, i int) string) {
		vals := make([]string, 0, minutes)
		on := false
		left := 0
		for i := range minutes {
			if left == 0 {
				on = !on
				left = 1 + rng.IntN(40)
				if rng.IntN(4) == 0 {
					left = 1 + rng.IntN(3) // a short flap
				}
			}
			left--
			v := next(on, i)
			switch r := rng.IntN(200); {
			case gaps && r == 0:
				v = "_"
			case gaps && r == 1:
				v = "stale"
			}
			vals = append(vals, v)
		}
		fmt.Fprintf(&b, "  %s %s\n", name, strings.Join(vals, " "))
	}
	for _, svc := range []string{"api", "web", "db"} {
		// Long-running counters: near zero, rate's extrapolation stops
		// at zero, where in the minute it is evaluated then matters.
		total := 1e6
		runs(fmt.Sprintf(`errors_total{service=%q}`, svc), false, func(on bool, _ int) string {
			if on {
				total += float64(rng.IntN(20))
			} else {
				total += float64(rng.IntN(2))
			}
			return strconv.FormatFloat(total, 'f', -1, 64)
		})
	}
	for _, inst := range []string{"a:9100", "b:9100"} {
		runs(fmt.Sprintf(`up{instance=%q}`, inst), true, func(on bool, _ int) string {
			if on {
				return "1"
			}
			return "0"
		})
	}
	runs(`queue_depth{queue="orders"}`, true, func(on bool, _ int) string {
		if on {
			return strconv.Itoa(40 + rng.IntN(60))
		}
		return strconv.Itoa(rng.IntN(50))
	})
	runs(`latency_seconds{route="/pay"}`, true, func(on bool, _ int) string {
		if on {
			return "0.9"
		}
		return "0.1"
	})
	return b.String()
}

// The backtest's episodes are the episodes Prometheus's own rule groups
// produce evaluating the same history step by step: exactly for alerts on
// raw series and on recorded series of their own group, within one step
// for alerts on a recorded series of another group (expanded: the source
// has no recorded series).
func TestEpisodesMatchRealRuleEvaluation(t *testing.T) {
	files := writeRules(t, map[string]string{"rules.yml": rulesYAML})
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			load := randomHistory(seed, 14*60)
			since, until := epoch.Add(time.Hour+7*time.Minute+13*time.Second), epoch.Add(13*time.Hour)

			src := newEngineSource(t, history(t, load))
			rep, err := Run(context.Background(), src, Options{Files: files, Since: since, Until: until, Interval: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rep.Expanded, ","); got != "service:errors:rate5m" {
				t.Errorf("expanded %q, want the recorded series the source lacks", got)
			}
			want := reference(t, lazyHistory(t, load), files, time.Minute, 30*time.Minute, since, until)
			got := episodesOf(rep)
			total := 0
			for _, name := range []string{"HighErrors", "InstanceDown", "QueueBacklog", "SlowRequests", "ErrorsNotWeb", "ErrorsSustained"} {
				tol := time.Duration(0)
				if crossGroup[name] {
					// The recorded sample an alert reads was written
					// at the recording group's last slot, up to its
					// interval before, and read at the alert's own.
					tol = time.Minute + 30*time.Second
				}
				sameEpisodes(t, name, got[name], want[name], tol)
				total += len(want[name])
				if len(want[name]) == 0 {
					t.Errorf("%s never fired in the reference: the history tests nothing", name)
				}
			}
			t.Logf("%d episodes compared", total)
			for _, r := range rep.Rules {
				if r.Error != "" || r.EvalErrors > 0 {
					t.Errorf("%s: error %q, %d evaluation errors (%s)", r.Alert, r.Error, r.EvalErrors, r.FirstEvalError)
				}
			}
		})
	}
}

// With the recorded series at the source (written by the real rule
// evaluation), the backtest reads it rather than expanding it, and every
// alert's episodes are exact — across groups too.
func TestRecordedSeriesAtTheSourceAreRead(t *testing.T) {
	files := writeRules(t, map[string]string{"rules.yml": rulesYAML})
	load := randomHistory(4, 14*60)
	since, until := epoch.Add(time.Hour+7*time.Minute+13*time.Second), epoch.Add(13*time.Hour)
	ll := lazyHistory(t, load)
	want := reference(t, ll, files, time.Minute, 30*time.Minute, since, until) // writes service:errors:rate5m
	rep, err := Run(context.Background(), newEngineSource(t, ll), Options{Files: files, Since: since, Until: until, Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Expanded) != 0 {
		t.Errorf("expanded %v, though the source has them", rep.Expanded)
	}
	got := episodesOf(rep)
	for name := range want {
		sameEpisodes(t, name, got[name], want[name], 0)
	}
}

// Split into queries of at most a few points, with at most two at once,
// the replay is the same as in one query per rule.
func TestSplitQueriesGiveTheSameEpisodes(t *testing.T) {
	files := writeRules(t, map[string]string{"rules.yml": rulesYAML})
	load := randomHistory(5, 6*60)
	since, until := epoch.Add(10*time.Minute), epoch.Add(5*time.Hour)
	whole := newEngineSource(t, history(t, load))
	one, err := Run(context.Background(), whole, Options{Files: files, Since: since, Until: until, Recorded: RecordedExpand})
	if err != nil {
		t.Fatal(err)
	}
	split := newEngineSource(t, history(t, load))
	release := make(chan struct{})
	entered := 0
	split.beforeReturn = func() {
		// Hold the first queries so that the others pile up behind the
		// limit if it does not hold.
		split.mu.Lock()
		entered++
		n := entered
		split.mu.Unlock()
		if n == 2 {
			close(release)
		}
		if n <= 2 {
			<-release
		}
	}
	many, err := Run(context.Background(), split, Options{Files: files, Since: since, Until: until, Recorded: RecordedExpand, MaxPoints: 7, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if split.maxPoints > 7 {
		t.Errorf("a query asked for %d points, more than 7", split.maxPoints)
	}
	if split.maxInFlight > 2 {
		t.Errorf("%d queries at once, more than 2", split.maxInFlight)
	}
	if len(split.queries) <= 2*len(whole.queries) {
		t.Errorf("%d queries split, %d whole: not split", len(split.queries), len(whole.queries))
	}
	a, b := episodesOf(one), episodesOf(many)
	for name := range a {
		sameEpisodes(t, name, b[name], a[name], 0)
	}
}

// A week at 15s is 40,320 evaluations: more than one query may hold.
func TestLongWindowsStayUnderTheLimit(t *testing.T) {
	files := writeRules(t, map[string]string{"rules.yml": `groups:
  - name: fast
    interval: 15s
    rules:
      - alert: Down
        expr: up == 0
`})
	src := newEngineSource(t, history(t, "load 1m\n  up{instance=\"a\"} 1x5999 0x239 1x4000\n"))
	rep, err := Run(context.Background(), src, Options{Files: files, Since: epoch, Until: epoch.Add(7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if src.maxPoints > MaxPoints {
		t.Errorf("a query of %d points", src.maxPoints)
	}
	r := rep.Rules[0]
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if r.Evaluations != 7*24*60*4+0 && r.Evaluations != 7*24*60*4+1 {
		t.Errorf("%d evaluations, want a week at 15s", r.Evaluations)
	}
	// up is 0 from 100h to 104h.
	if r.Episodes != 1 || !near(r.EpisodeList[0].Start, epoch.Add(100*time.Hour), 15*time.Second) || !near(r.EpisodeList[0].End, epoch.Add(104*time.Hour), 15*time.Second) {
		t.Errorf("episodes %v, want one from 100h to 104h", r.EpisodeList)
	}
}

// sameEpisodes compares episodes, starts and ends within tol.
func sameEpisodes(t *testing.T, name string, got, want []refEpisode, tol time.Duration) {
	t.Helper()
	// Each label set's episodes in order: a tolerance may reorder
	// episodes of different label sets that start close together.
	byLabels := func(es []refEpisode) map[string][]refEpisode {
		m := map[string][]refEpisode{}
		for _, e := range es {
			m[e.labels] = append(m[e.labels], e)
		}
		return m
	}
	g, w := byLabels(got), byLabels(want)
	for ls := range w {
		if _, ok := g[ls]; !ok {
			g[ls] = nil
		}
	}
	for ls, ge := range g {
		we := w[ls]
		for i := range max(len(ge), len(we)) {
			switch {
			case i >= len(ge):
				t.Errorf("%s: %d of %d episodes of %s; the first missing: %v", name, len(ge), len(we), ls, we[i])
			case i >= len(we):
				t.Errorf("%s: %d episodes of %s, want %d; the first extra: %v", name, len(ge), ls, len(we), ge[i])
			case (tol == 0 && ge[i].open != we[i].open) || !near(ge[i].start, we[i].start, tol) || !near(ge[i].end, we[i].end, tol):
				// (An open episode ends at until: with a tolerance, one
				// that resolved just before it matches.)
				t.Errorf("%s: episode %d of %s is %v, want %v (tolerance %v)", name, i, ls, ge[i], we[i], tol)
			default:
				continue
			}
			break
		}
	}
}

func near(a, b time.Time, tol time.Duration) bool {
	d := a.Sub(b)
	return d <= tol && -d <= tol
}

// Generated rules (the catalogue's SLOs and KPIs) replay as the same rules
// in a file do, and are reported under their generated names.
func TestGeneratedRulesReplayLikeFiles(t *testing.T) {
	files := writeRules(t, map[string]string{"rules.yml": rulesYAML})
	ll := lazyHistory(t, randomHistory(4, 6*60))
	since, until := epoch.Add(time.Hour), epoch.Add(5*time.Hour)
	fromFile, err := Run(context.Background(), newEngineSource(t, ll), Options{Files: files, Since: since, Until: until, Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const name = "oncall.yaml#services.checkout"
	gen, err := Run(context.Background(), newEngineSource(t, ll), Options{Since: since, Until: until, Interval: time.Minute,
		Generated: []alerts.GeneratedFile{{Name: name, Content: []byte(rulesYAML)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.Rules) == 0 || len(gen.Rules) != len(fromFile.Rules) {
		t.Fatalf("%d rules generated, %d from the file", len(gen.Rules), len(fromFile.Rules))
	}
	for _, r := range gen.Rules {
		if r.File != name {
			t.Errorf("%s reported in %q, want %q", r.Alert, r.File, name)
		}
	}
	want, got := episodesOf(fromFile), episodesOf(gen)
	for n := range want {
		sameEpisodes(t, n, got[n], want[n], 0)
	}
}
