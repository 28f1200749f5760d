package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oncallhq/oncall/alerts"
)

// Metrics are the engine's own Prometheus metrics, served on /metrics.
type Metrics struct {
	evalDuration prometheus.Histogram
	evalFailures prometheus.Counter
	evals        prometheus.Counter
	alerts       *prometheus.GaugeVec
	pages        *prometheus.CounterVec
}

// NewMetrics registers the engine's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "oncall_rule_evaluation_duration_seconds", Help: "Time to evaluate every rule once.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		evals:        prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_rule_evaluations_total", Help: "Rule evaluations."}),
		evalFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "oncall_rule_evaluation_failures_total", Help: "Evaluation cycles in which at least one rule failed."}),
		alerts:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oncall_alerts", Help: "Alerts by state."}, []string{"state"}),
		pages:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oncall_pages_total", Help: "Page delivery attempts by result."}, []string{"result"}),
	}
	reg.MustRegister(m.evalDuration, m.evals, m.evalFailures, m.alerts, m.pages)
	return m
}

func (m *Metrics) observeEval(d time.Duration, as []alerts.RuleAlert, err error, rules int) {
	if m == nil {
		return
	}
	m.evalDuration.Observe(d.Seconds())
	m.evals.Add(float64(rules))
	if err != nil {
		m.evalFailures.Inc()
	}
	counts := map[alerts.State]int{}
	for _, a := range as {
		counts[a.State]++
	}
	for _, s := range []alerts.State{alerts.StatePending, alerts.StateFiring, alerts.StateResolved} {
		m.alerts.WithLabelValues(s.String()).Set(float64(counts[s]))
	}
}

func (m *Metrics) page(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.pages.WithLabelValues("sent").Inc()
	} else {
		m.pages.WithLabelValues("failed").Inc()
	}
}
