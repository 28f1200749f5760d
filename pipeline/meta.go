package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/store"
)

// The meta-alerts: what oncall raises about its own monitoring, always on,
// routed like any alert. Monitoring that goes blind must page.
const (
	// WatchdogAlertName is always firing while a pipeline leads, sent to
	// an outside dead man's switch, which pages when it stops coming.
	WatchdogAlertName = "OncallWatchdog"
	// RuleFilesInvalidAlertName fires while a rule file (or a group in it)
	// does not load: its rules are not evaluated, or are evaluated as
	// they were before it broke.
	RuleFilesInvalidAlertName = "OncallRuleFilesInvalid"
	// RuleFailingAlertName fires when a group's rules fail to evaluate
	// several times in a row (while other rules work: a source that fails
	// them all is OncallNotReady).
	RuleFailingAlertName = "OncallRuleEvaluationFailing"
	// RuleSlowAlertName fires when a group's evaluation takes longer than
	// its interval or skips slots.
	RuleSlowAlertName = "OncallRuleEvaluationSlow"
	// NoDataAlertName fires when a metric an alerting rule reads has no
	// series at the source: the rule cannot fire whatever happens.
	NoDataAlertName = "OncallRuleNoData"
)

const (
	// failingAfter is how many evaluations in a row must fail.
	failingAfter = 3
	// slowFor is how long a group must keep being slow before the slow
	// alert fires (a pause of the host is not news); slowHold keeps it up
	// after the last slow evaluation.
	slowFor  = 5 * time.Minute
	slowHold = 10 * time.Minute
	// noDataEvery is how often metrics are checked for series; a metric
	// must be missing at two checks in a row.
	noDataEvery = 5 * time.Minute
)

// meta is the state of the meta-alerts, touched by the rules loop (and,
// for the watchdog, the step) only.
type meta struct {
	raised map[string]map[uint64]alerts.Alert // by kind, the firing ones
	// failing counts each group's failed evaluations in a row, since when.
	failing      map[string]int
	failingSince map[string]time.Time
	lastEval     map[string]time.Time
	lastMissed   map[string]int
	slowAt       map[string]time.Time
	slowSince    map[string]time.Time
	// missing is when each metric was first found without series.
	missing    map[string]time.Time
	nextNoData time.Time
	watchdog   time.Time // when it was last refreshed
	since      time.Time // when this leadership began raising it
}

func newMeta() meta {
	return meta{raised: map[string]map[uint64]alerts.Alert{}, failing: map[string]int{}, failingSince: map[string]time.Time{},
		lastEval: map[string]time.Time{}, lastMissed: map[string]int{}, slowAt: map[string]time.Time{}, slowSince: map[string]time.Time{},
		missing: map[string]time.Time{}}
}

// lockMeta takes metaMu, starting the meta-alerts' state afresh in a new
// leadership epoch.
func (p *Pipeline) lockMeta() {
	p.mu.Lock()
	cur := p.epoch
	p.mu.Unlock()
	p.metaMu.Lock()
	if p.metaEpoch != cur {
		p.meta, p.metaEpoch = newMeta(), cur
	}
}

// raise makes the firing alerts of one kind of meta-alert exactly want
// (with metaMu held):
// those in want are put (refreshed, to end after hold unless refreshed
// again), those raised before and not wanted now are resolved.
func (p *Pipeline) raise(kind string, want []alerts.Alert, hold time.Duration, now time.Time) {
	prev := p.meta.raised[kind]
	next := make(map[uint64]alerts.Alert, len(want))
	var put []alerts.Alert
	for _, a := range want {
		a.EndsAt, a.UpdatedAt = now.Add(hold), now
		fp := a.Fingerprint()
		next[fp] = a
		put = append(put, a)
	}
	for fp, a := range prev {
		if _, ok := next[fp]; !ok {
			a.EndsAt, a.UpdatedAt = now, now
			put = append(put, a)
		}
	}
	p.meta.raised[kind] = next
	if len(put) > 0 {
		p.put(now, put, sourceOncall, false)
	}
}

func metaAlert(name, severity string, since time.Time, ls []string, summary, description string) alerts.Alert {
	return alerts.Alert{
		Labels:      labels.FromStrings(append([]string{labels.AlertName, name, "severity", severity}, ls...)...),
		Annotations: labels.FromStrings("summary", summary, "description", secret.Redact(description)),
		StartsAt:    since,
	}
}

// heartbeat sends the watchdog alert, firing, to the watchdog receiver's
// integrations every WatchdogInterval while this process leads. It goes
// straight to the outbox, not through the alerts: it never opens an
// incident and is not a problem on anyone's screen.
func (p *Pipeline) heartbeat(ctx context.Context, now time.Time) error {
	p.lockMeta()
	defer p.metaMu.Unlock()
	if !p.meta.watchdog.IsZero() && now.Sub(p.meta.watchdog) < p.opts.WatchdogInterval {
		return nil
	}
	if p.meta.since.IsZero() {
		p.meta.since = now
	}
	a := metaAlert(WatchdogAlertName, "none", p.meta.since, nil,
		"oncall's pipeline is running (always firing)",
		"This alert fires for as long as oncall evaluates and routes alerts. It is sent to a dead man's switch outside oncall: when it stops arriving, oncall or its host is down.")
	a.EndsAt, a.UpdatedAt = now.Add(4*p.opts.WatchdogInterval), now
	recv := p.opts.WatchdogReceiver
	groupKey := `{}:{alertname="` + WatchdogAlertName + `"}`
	var msgs []notify.Message
	for _, in := range p.integrations[recv] {
		if in.kind == KindIncident {
			continue
		}
		// Only the newest heartbeat matters: each supersedes the last.
		group := fmt.Sprintf("watchdog/%s/%s/%d", recv, in.kind, in.index)
		msgs = append(msgs, notify.Message{
			Key: fmt.Sprintf("%s/%d", group, now.UnixNano()), Kind: notify.KindNotification, Supersede: group, CreatedAt: now,
			Notification: &notify.Notification{Receiver: recv, Integration: in.kind, Index: in.index, GroupKey: groupKey,
				GroupLabels: labels.FromStrings(labels.AlertName, WatchdogAlertName), Alerts: []alerts.Alert{a}, At: now},
		})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := p.opts.Store.Update(ctx, func(tx store.Tx) error { return tx.Enqueue(ctx, msgs) }); err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	p.meta.watchdog = now
	p.kick(p.relayWake)
	return nil
}

// groupKey names a group across files.
func groupKey(file, group string) string { return file + "\x00" + group }

// ruleHealth raises the meta-alerts of the rule files and their
// evaluation, after an evaluation at now that returned err.
func (p *Pipeline) ruleHealth(ctx context.Context, now time.Time, err error) {
	p.lockMeta()
	defer p.metaMu.Unlock()
	ev := p.opts.Rules
	hold := 3 * p.opts.EvaluationInterval
	// Rule files that do not load.
	var invalid []alerts.Alert
	for _, pr := range ev.Problems() {
		file := pr.File
		invalid = append(invalid, metaAlert(RuleFilesInvalidAlertName, "critical", now, []string{"file", file},
			"Rule file "+file+" does not load: its broken groups are not evaluated",
			pr.Error()+". The groups it names keep their last good version, or are not evaluated at all; the other groups run. Fix the file; oncall reloads it on change or SIGHUP."))
	}
	p.raise("invalid", keepSince(p.meta.raised["invalid"], invalid), hold+time.Minute, now)

	// Groups whose rules keep failing, and groups that are late.
	byGroup := map[string][]alerts.RuleError{}
	var rerrs []alerts.RuleError
	collectRuleErrors(err, &rerrs)
	for _, re := range rerrs {
		k := groupKey(re.Rule.File, re.Rule.Group)
		byGroup[k] = append(byGroup[k], re)
	}
	allFail := err != nil && failed(err) >= len(ev.Rules())
	var failing, slow []alerts.Alert
	for _, g := range ev.Groups() {
		k := groupKey(g.File, g.Name)
		if g.LastEvaluation.After(p.meta.lastEval[k]) {
			p.meta.lastEval[k] = g.LastEvaluation
			if errs := byGroup[k]; len(errs) > 0 {
				if p.meta.failing[k] == 0 {
					p.meta.failingSince[k] = now
				}
				p.meta.failing[k]++
			} else {
				delete(p.meta.failing, k)
			}
			if g.EvaluationTime > g.Interval || g.Missed > p.meta.lastMissed[k] {
				if _, ok := p.meta.slowAt[k]; !ok {
					p.meta.slowSince[k] = now
				}
				p.meta.slowAt[k] = now
			}
			p.meta.lastMissed[k] = g.Missed
		}
		if n := p.meta.failing[k]; n >= failingAfter && !allFail {
			var msgs []string
			for _, re := range byGroup[k] {
				msgs = append(msgs, re.Error())
			}
			if len(msgs) == 0 {
				msgs = []string{"(not evaluated this round)"}
			}
			failing = append(failing, metaAlert(RuleFailingAlertName, "critical", p.meta.failingSince[k], []string{"rule_group", g.Name, "file", g.File},
				fmt.Sprintf("Rules of group %s fail to evaluate (%d times in a row)", g.Name, n),
				strings.Join(msgs, "; ")+". These rules cannot fire while they fail."))
		}
		if at, ok := p.meta.slowAt[k]; ok {
			if now.Sub(at) > slowHold {
				delete(p.meta.slowAt, k)
				continue
			}
			if at.Sub(p.meta.slowSince[k]) < slowFor {
				continue
			}
			slow = append(slow, metaAlert(RuleSlowAlertName, "warning", p.meta.slowSince[k], []string{"rule_group", g.Name, "file", g.File},
				fmt.Sprintf("Group %s takes %s to evaluate, every %s", g.Name, g.EvaluationTime.Round(time.Millisecond), g.Interval),
				fmt.Sprintf("Its evaluation is slower than its interval or skipped %d slots: alerts come late. Split the group, lengthen its interval, or make its queries cheaper.", g.Missed)))
		}
	}
	if !allFail {
		// While the source fails every rule, OncallNotReady says so; keep
		// what was raised rather than resolving it on no news.
		p.raise("failing", failing, hold+time.Minute, now)
	}
	p.raise("slow", slow, hold+time.Minute, now)
	p.noData(ctx, now)
}

// keepSince gives alerts raised before their first start time, so that a
// lasting problem keeps one start.
func keepSince(prev map[uint64]alerts.Alert, as []alerts.Alert) []alerts.Alert {
	for i := range as {
		if old, ok := prev[as[i].Fingerprint()]; ok {
			as[i].StartsAt = old.StartsAt
		}
	}
	return as
}

// collectRuleErrors gathers the RuleErrors joined in err.
func collectRuleErrors(err error, out *[]alerts.RuleError) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collectRuleErrors(e, out)
		}
		return
	}
	var re alerts.RuleError
	if errors.As(err, &re) {
		*out = append(*out, re)
	}
}

// noData checks, every noDataEvery, that each metric the alerting rules
// read has series at the source.
func (p *Pipeline) noData(ctx context.Context, now time.Time) {
	if p.opts.NoDataQuery == nil || now.Before(p.meta.nextNoData) {
		return
	}
	p.meta.nextNoData = now.Add(noDataEvery)
	used := ruleMetrics(p.opts.Rules.Rules())
	names := slices.Sorted(maps.Keys(used))
	present := map[string]bool{}
	for chunk := range slices.Chunk(names, 100) {
		quoted := make([]string, len(chunk))
		for i, n := range chunk {
			quoted[i] = regexp.QuoteMeta(n)
		}
		q := fmt.Sprintf("group by (__name__) ({__name__=~%q})", strings.Join(quoted, "|"))
		v, err := p.opts.NoDataQuery.Instant(ctx, q, now)
		if err != nil {
			return // the source fails: OncallNotReady says so
		}
		for _, s := range v {
			present[s.Labels.Get(labels.MetricName)] = true
		}
	}
	var want []alerts.Alert
	for _, n := range names {
		if present[n] {
			delete(p.meta.missing, n)
			continue
		}
		since, ok := p.meta.missing[n]
		if !ok {
			p.meta.missing[n] = now
			continue
		}
		rs := used[n]
		want = append(want, metaAlert(NoDataAlertName, "warning", since, []string{"metric", n},
			fmt.Sprintf("No series of %s at the source: %d alerting rules read it and cannot fire", n, len(rs)),
			fmt.Sprintf("Since %s the metrics source has no series named %s, which %s read. Its exporter may be down, its scrape broken, or the metric renamed.",
				since.UTC().Format(time.RFC3339), n, strings.Join(rs, ", "))))
	}
	for n := range p.meta.missing {
		if _, ok := used[n]; !ok {
			delete(p.meta.missing, n)
		}
	}
	p.raise("nodata", want, noDataEvery+2*p.opts.EvaluationInterval, now)
}

// ruleMetrics maps each metric the alerting rules select to the rules
// (by where they are) that select it: not the series recording rules make
// (their inputs are checked instead), not ALERTS, and not selectors under
// absent(), which expect nothing.
func ruleMetrics(rs []alerts.Rule) map[string][]string {
	recorded := map[string]bool{"ALERTS": true, "ALERTS_FOR_STATE": true}
	for _, r := range rs {
		if r.Record {
			recorded[r.Name] = true
		}
	}
	out := map[string][]string{}
	p := parser.NewParser(parser.Options{})
	for _, r := range rs {
		expr, err := p.ParseExpr(r.Expr)
		if err != nil {
			continue
		}
		for _, n := range selectedNames(expr) {
			if !recorded[n] && !slices.Contains(out[n], r.Name) {
				out[n] = append(out[n], r.Name)
			}
		}
	}
	return out
}

// selectedNames are the metric names expr selects outside absent().
func selectedNames(expr parser.Expr) []string {
	var v nameVisitor
	parser.Walk(&v, expr, nil)
	return v.names
}

// nameVisitor gathers selected metric names, not descending into absent().
type nameVisitor struct{ names []string }

// Visit notes a selector's name; under absent() it goes no deeper.
func (v *nameVisitor) Visit(n parser.Node, _ []parser.Node) (parser.Visitor, error) {
	switch n := n.(type) {
	case *parser.Call:
		if n.Func.Name == "absent" || n.Func.Name == "absent_over_time" {
			return nil, nil
		}
	case *parser.VectorSelector:
		name := n.Name
		for _, m := range n.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name != "" {
			v.names = append(v.names, name)
		}
	}
	return v, nil
}
