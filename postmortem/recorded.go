package postmortem

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/oncallhq/oncall/postmortem/textchart"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// The series oncall's SLO and KPI rules record (Sloth's names and labels
// for SLOs): the scaffolder reads them through the range queries alone, so
// that any rules recording these names — oncall's own, Sloth's — give an
// impact estimate without being configured twice.
const (
	// sliSeries is an SLO's error ratio over 5 minutes, one series per SLO
	// with sloth_service and sloth_slo.
	sliSeries = "slo:sli_error:ratio_rate5m"
	// objectiveSeries is the SLO's objective as a ratio (0.999), and
	// periodSeries its window in days.
	objectiveSeries = "slo:objective:ratio"
	periodSeries    = "slo:time_period:days"
	// kpiSeries is a KPI's ratio, kpiBaseline what it is compared with,
	// kpiVolume its denominator (the events per second the ratio is of);
	// one series per KPI with service and kpi.
	kpiSeries   = "kpi:ratio"
	kpiBaseline = "kpi:baseline:ratio"
	kpiVolume   = "kpi:volume"
)

// KPIImpact is what the incident did to a business ratio (matches per
// active user, orders per request) against its own baseline.
type KPIImpact struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	// Lowest is the ratio at its furthest below the baseline, at LowestAt,
	// when the baseline was Baseline; Drop is how far below (0.6: 60%).
	Lowest   float64   `json:"lowest"`
	LowestAt time.Time `json:"lowest_at,omitzero"`
	Baseline float64   `json:"baseline"`
	Drop     float64   `json:"drop"`
	// Below is how long the ratio was under its baseline.
	Below time.Duration `json:"below_ns"`
	// Lost, with the KPI's volume recorded, is how many events (matches,
	// orders) the shortfall against the baseline adds up to.
	Lost    float64  `json:"lost,omitempty"`
	HasLost bool     `json:"has_lost,omitempty"`
	Chart   []string `json:"chart,omitempty"`
}

// selector is `name{label="value"}`.
func selector(name, label, value string) string {
	return name + "{" + label + "=" + strconv.Quote(value) + "}"
}

// lastValue is the last sample of s that is a number.
func lastValue(s metrics.Series) (float64, bool) {
	for i := len(s.Points) - 1; i >= 0; i-- {
		if v := s.Points[i].V; !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	return 0, false
}

// recordedObjectives measures the SLOs whose rules record their error
// ratio for service over [start, stop], with the objective and window
// the rules record beside it (99.9% over 30 days when they do not).
func recordedObjectives(ctx context.Context, q RangeQuerier, service string, start, stop time.Time, im Impact) ([]ObjectiveImpact, error) {
	ratios, err := q.Range(ctx, selector(sliSeries, "sloth_service", service), im.From, im.To, im.Step)
	if err != nil || len(ratios) == 0 {
		return nil, err
	}
	byName := func(name string) map[string]float64 {
		out := map[string]float64{}
		ss, err := q.Range(ctx, selector(name, "sloth_service", service), im.From, im.To, im.Step)
		if err != nil {
			return out
		}
		for _, s := range ss {
			if v, ok := lastValue(s); ok {
				out[s.Labels.Get("sloth_slo")] = v
			}
		}
		return out
	}
	objectives, days := byName(objectiveSeries), byName(periodSeries)
	var out []ObjectiveImpact
	for _, r := range ratios {
		name := r.Labels.Get("sloth_slo")
		oi := ObjectiveImpact{Name: name, Service: service, Objective: 99.9, Window: 30 * 24 * time.Hour}
		if v, ok := objectives[name]; ok && v > 0 && v < 1 {
			oi.Objective = math.Round(v*1e6) / 1e4
		}
		if d, ok := days[name]; ok && d > 0 {
			oi.Window = time.Duration(d * float64(24*time.Hour))
		}
		out = append(out, burned(oi, r, nil, start, stop, im))
	}
	slices.SortFunc(out, func(a, b ObjectiveImpact) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// recordedKPIs measures the KPIs whose rules record their ratio and
// baseline for service over [start, stop].
func recordedKPIs(ctx context.Context, q RangeQuerier, service string, start, stop time.Time, im Impact) ([]KPIImpact, error) {
	ratios, err := q.Range(ctx, selector(kpiSeries, "service", service), im.From, im.To, im.Step)
	if err != nil || len(ratios) == 0 {
		return nil, err
	}
	byKPI := func(name string) (map[string]metrics.Series, error) {
		out := map[string]metrics.Series{}
		ss, err := q.Range(ctx, selector(name, "service", service), im.From, im.To, im.Step)
		for _, s := range ss {
			out[s.Labels.Get("kpi")] = s
		}
		return out, err
	}
	bases, err := byKPI(kpiBaseline)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kpiBaseline, err)
	}
	volumes, _ := byKPI(kpiVolume)
	var out []KPIImpact
	for _, r := range ratios {
		name := r.Labels.Get("kpi")
		base, ok := bases[name]
		if !ok {
			continue
		}
		ki := KPIImpact{Name: name, Service: service}
		at := func(s metrics.Series) map[int64]float64 {
			m := map[int64]float64{}
			for _, p := range s.Points {
				if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
					m[p.T.UnixMilli()] = p.V
				}
			}
			return m
		}
		baseAt, volAt := at(base), map[int64]float64{}
		vol, hasVol := volumes[name]
		if hasVol {
			volAt = at(vol)
		}
		for _, p := range r.Points {
			b, ok := baseAt[p.T.UnixMilli()]
			if p.T.Before(start) || p.T.After(stop) || !ok || b <= 0 || math.IsNaN(p.V) || math.IsInf(p.V, 0) {
				continue
			}
			short := b - p.V
			if short <= 0 {
				continue
			}
			ki.Below += im.Step
			if drop := short / b; drop > ki.Drop {
				ki.Drop, ki.Lowest, ki.LowestAt, ki.Baseline = drop, p.V, p.T, b
			}
			if v, ok := volAt[p.T.UnixMilli()]; ok && hasVol {
				ki.Lost += short * v * im.Step.Seconds()
			}
		}
		ki.HasLost = hasVol
		if ki.Below == 0 {
			continue // the KPI held: nothing to say of it
		}
		ki.Chart = textchart.Chart(points(r), im.From, im.To, chartWidth, chartHeight)
		out = append(out, ki)
	}
	slices.SortFunc(out, func(a, b KPIImpact) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}
