package pipeline

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// withView calls f with the leader's state under the lock or, on a
// standby, with state built from the store.
func (p *Pipeline) withView(ctx context.Context, now time.Time, f func(v *state)) error {
	p.mu.Lock()
	if p.leader {
		defer p.mu.Unlock()
		f(&p.state)
		return nil
	}
	p.mu.Unlock()
	as, err := p.opts.Store.Alerts(ctx)
	if err != nil {
		return err
	}
	sils, err := p.opts.Store.Silences(ctx)
	if err != nil {
		return err
	}
	v := newState(p.opts, sils, now)
	v.load(as, now)
	f(&v)
	return nil
}

// status is how the pipeline treats an alert at now.
func (v *state) status(a *alerts.Alert, routes []string, now time.Time) alerts.Status {
	st := alerts.Status{State: a.StateAt(now), Receivers: routes, SilencedBy: v.silencer.Mutes(a.Labels, now)}
	if fp, ok := v.inhibitor.Mutes(a.Labels, now); ok {
		st.InhibitedBy = []string{alerts.FingerprintString(fp)}
	}
	return st
}

func receivers(e *entry) []string {
	var out []string
	for _, r := range e.routes {
		if !slices.Contains(out, r.Receiver) {
			out = append(out, r.Receiver)
		}
	}
	return out
}

// Alerts lists every alert as of now with its status — firing, resolved,
// and the pending alerts of oncall's own rules — sorted by state (firing
// first) and then by labels.
func (p *Pipeline) Alerts(ctx context.Context, now time.Time) ([]alerts.Alert, error) {
	var out []alerts.Alert
	err := p.withView(ctx, now, func(v *state) {
		out = make([]alerts.Alert, 0, len(v.ix.byFP)+len(v.pending))
		for _, e := range v.ix.byFP {
			a := *e.alert
			a.Status = v.status(e.alert, receivers(e), now)
			out = append(out, a)
		}
		for _, a := range v.pending {
			a.Status = alerts.Status{State: alerts.StatePending}
			out = append(out, a)
		}
	})
	// Sort indices, not 200-byte structs.
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		a, b := &out[i], &out[j]
		if a.Status.State != b.Status.State {
			return int(b.Status.State) - int(a.Status.State)
		}
		return labels.Compare(a.Labels, b.Labels)
	})
	sorted := make([]alerts.Alert, len(out))
	for k, i := range idx {
		sorted[k] = out[i]
	}
	return sorted, err
}

// Groups lists the alert groups with their alerts' status, as
// Alertmanager's /api/v2/alerts/groups does.
func (p *Pipeline) Groups(ctx context.Context, now time.Time) ([]alerts.Group, error) {
	var out []alerts.Group
	err := p.withView(ctx, now, func(v *state) {
		for _, g := range v.disp.Groups() {
			og := alerts.Group{Receiver: g.Receiver, Key: g.Key, Labels: g.Labels}
			for _, a := range g.Alerts() {
				c := *a
				e := v.ix.byFP[a.Fingerprint()]
				var rs []string
				if e != nil {
					rs = receivers(e)
				}
				c.Status = v.status(a, rs, now)
				og.Alerts = append(og.Alerts, c)
			}
			if len(og.Alerts) > 0 {
				out = append(out, og)
			}
		}
	})
	slices.SortStableFunc(out, func(a, b alerts.Group) int {
		if c := labels.Compare(a.Labels, b.Labels); c != 0 {
			return c
		}
		return strings.Compare(a.Receiver, b.Receiver)
	})
	return out, err
}

// Receivers lists the receivers of the routing configuration.
func (p *Pipeline) Receivers() []string { return p.opts.Routing.ReceiverNames() }
