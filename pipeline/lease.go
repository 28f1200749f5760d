package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oncallhq/oncall/routing/silence"
)

// tickLease takes or renews the lease and changes role when it must.
func (p *Pipeline) tickLease(ctx context.Context, now time.Time) error {
	ok, err := p.opts.Store.AcquireLease(ctx, leaseName, p.holder, leaseTTL, now)
	if err == nil && !ok {
		// A holder that died on this machine (a crash, a SIGKILL) need not
		// be waited out.
		if h, _, lerr := p.opts.Store.Lease(ctx, leaseName); lerr == nil && deadHere(h) {
			p.log.Info("taking over the lease of a process that died", "holder", h)
			if err = p.opts.Store.ReleaseLease(ctx, leaseName, h); err == nil {
				ok, err = p.opts.Store.AcquireLease(ctx, leaseName, p.holder, leaseTTL, now)
			}
		}
	}
	p.mu.Lock()
	p.next.lease = now.Add(leaseRenew)
	p.mu.Unlock()
	p.storeResult(now, err)
	if err != nil {
		// Unsure whether we still hold it: stand down rather than risk
		// two leaders paging twice.
		p.stepDown(ctx)
		return fmt.Errorf("pipeline lease: %w", err)
	}
	switch {
	case ok && !p.Leader():
		return p.becomeLeader(ctx, now)
	case !ok && p.Leader():
		p.log.Warn("pipeline lease lost: standing by")
		p.stepDown(ctx)
	}
	return nil
}

// deadHere reports whether a lease holder ("host/pid/nonce") was a
// process of this machine that no longer runs.
func deadHere(holder string) bool {
	parts := strings.Split(holder, "/")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[1])
	if parts[0] != host || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// becomeLeader loads the pipeline's state from the store.
func (p *Pipeline) becomeLeader(ctx context.Context, now time.Time) error {
	st := p.opts.Store
	if err := p.writeAlerts(ctx, now); err != nil {
		return err
	}
	as, err := st.Alerts(ctx)
	if err != nil {
		return err
	}
	groups, err := st.Groups(ctx)
	if err != nil {
		return err
	}
	log, err := st.NotificationLog(ctx)
	if err != nil {
		return err
	}
	sils, err := st.Silences(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reset()
	p.disp.Restore(groups)
	p.load(as, now)
	for _, e := range log {
		p.nflog[e.Key] = e
	}
	p.silencer = silence.NewSilencer(sils, now)
	p.next.silences = now.Add(silencesEvery)
	p.next.maintain = now.Add(maintainEvery)
	// Every alert in the store is loaded; from here on, pull what standbys
	// write. The store stamps writes with the wall clock.
	p.pulled, p.next.pull = time.Now(), now.Add(pullEvery)
	p.leader = true
	p.epoch++
	p.m.setLeader(true)
	p.log.Info("pipeline lease taken: running the pipeline", "holder", p.holder, "alerts", len(as), "groups", len(groups))
	p.kick(p.relayWake)
	p.kick(p.rulesWake)
	return nil
}

// stepDown writes what is unsaved, drops the in-memory state and releases
// the lease. It does so even when ctx is done (a shutdown that came in the
// middle of a renewal): else the alerts of the last second were lost and a
// standby waited the lease out.
func (p *Pipeline) stepDown(ctx context.Context) {
	if !p.Leader() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.writeAlerts(ctx, p.opts.Now()); err != nil {
		p.log.Warn("standing down: alerts not written", "err", err)
	}
	p.mu.Lock()
	p.leader = false
	p.epoch++
	p.reset()
	p.m.setLeader(false)
	p.mu.Unlock()
	p.opts.Store.ReleaseLease(ctx, leaseName, p.holder)
}
