package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
)

// Metrics are the pipeline's own Prometheus metrics, served on /metrics.
// A nil *Metrics records nothing.
type Metrics struct {
	evalDuration  prometheus.Histogram
	evals         prometheus.Counter
	evalFailures  prometheus.Counter
	ruleAlerts    *prometheus.GaugeVec
	received      prometheus.Counter
	refused       prometheus.Counter
	held          prometheus.Gauge
	groups        prometheus.Gauge
	flushes       prometheus.Counter
	flushFailures prometheus.Counter
	flushDuration prometheus.Histogram
	notifications *prometheus.CounterVec
	messages      *prometheus.CounterVec
	leader        prometheus.Gauge
}

// NewMetrics registers the pipeline's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "oncall_rule_evaluation_duration_seconds", Help: "Time to evaluate every rule once.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		evals:         prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_rule_evaluations_total", Help: "Rule evaluations."}),
		evalFailures:  prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_rule_evaluation_failures_total", Help: "Evaluation cycles in which at least one rule failed."}),
		ruleAlerts:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oncall_rule_alerts", Help: "Alerts of oncall's own rules by state."}, []string{"state"}),
		received:      prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_alerts_received_total", Help: "Alerts received (posted or from rules)."}),
		refused:       prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_alerts_refused_total", Help: "Alerts refused because alerts.max_alerts is reached."}),
		held:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "oncall_alerts", Help: "Alerts held by the pipeline."}),
		groups:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "oncall_alert_groups", Help: "Aggregation groups."}),
		flushes:       prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_group_flushes_total", Help: "Group flushes."}),
		flushFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_group_flush_failures_total", Help: "Rounds of flushes that could not be written to the store."}),
		flushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "oncall_flush_write_duration_seconds", Help: "Time to write a round of flushes.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8)}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oncall_notifications_total", Help: "Notifications decided, by integration."}, []string{"integration"}),
		messages:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oncall_outbox_deliveries_total", Help: "Outbox delivery outcomes."}, []string{"result"}),
		leader:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "oncall_pipeline_leader", Help: "1 while this process holds the pipeline lease."}),
	}
	reg.MustRegister(m.evalDuration, m.evals, m.evalFailures, m.ruleAlerts, m.received, m.refused, m.held, m.groups,
		m.flushes, m.flushFailures, m.flushDuration, m.notifications, m.messages, m.leader)
	return m
}

func (m *Metrics) evaluated(d time.Duration, as []alerts.RuleAlert, gathered bool, err error) {
	if m == nil {
		return
	}
	m.evalDuration.Observe(d.Seconds())
	m.evals.Inc()
	if err != nil {
		m.evalFailures.Inc()
	}
	if !gathered {
		return
	}
	counts := map[alerts.State]int{}
	for _, a := range as {
		counts[a.State]++
	}
	for _, s := range []alerts.State{alerts.StatePending, alerts.StateFiring, alerts.StateResolved} {
		m.ruleAlerts.WithLabelValues(s.String()).Set(float64(counts[s]))
	}
}

func (m *Metrics) receivedAlerts(n, refused int) {
	if m == nil {
		return
	}
	m.received.Add(float64(n))
	m.refused.Add(float64(refused))
}

func (m *Metrics) setAlerts(alerts, groups int) {
	if m == nil {
		return
	}
	m.held.Set(float64(alerts))
	m.groups.Set(float64(groups))
}

func (m *Metrics) flushed(n int, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.flushes.Add(float64(n))
	m.flushDuration.Observe(d.Seconds())
	if err != nil {
		m.flushFailures.Inc()
	}
}

func (m *Metrics) notification(kind string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(kind).Inc()
}

func (m *Metrics) delivered(o notify.Outcome) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues("sent").Add(float64(o.Sent))
	m.messages.WithLabelValues("retrying").Add(float64(o.Retrying))
	m.messages.WithLabelValues("failed").Add(float64(o.Failed))
	m.messages.WithLabelValues("superseded").Add(float64(o.Superseded))
}

func (m *Metrics) setLeader(on bool) {
	if m == nil {
		return
	}
	if on {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}
