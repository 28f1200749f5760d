// Package slo turns a service's SLOs and KPIs into Prometheus rules, and
// reads Sloth's prometheus/v1 specs into SLOs.
//
// # SLOs and burn rates
//
// An SLO says what share of events must be good over a rolling window:
// 99.9% over 30 days. The rest, 0.1% of the window's events, is the error
// budget. The burn rate is how fast errors spend it: the error ratio over
// some span divided by the budget. At a burn rate of 1 the budget lasts
// exactly the window; at 14.4 a 30-day budget is gone in 50 hours, and one
// hour of it spends 14.4/720 = 2% of the budget.
//
// Alerting on the error ratio of one span is either slow (a long span
// notices a fire late and keeps alerting long after it is out) or noisy (a
// short span pages for every blip). Following the SRE workbook, each alert
// needs a high burn rate over a long span and over a short one at once: the
// long one proves the budget is really going, the short one that it still
// is, so the alert stops soon after the errors do. Four conditions, for a
// 30-day window:
//
//	page:   14.4 over 1h and 5m   (2% of the budget in an hour)
//	        6    over 6h and 30m  (5% in six hours)
//	ticket: 3    over 1d and 2h   (10% in a day)
//	        1    over 3d and 6h   (10% in three days)
//
// The thresholds are burn rates, so they hold for any window; the share of
// the budget they stand for scales with it, and the alerts' descriptions
// say how much for the SLO's own window.
//
// Every span's error ratio is a recorded series (slo:sli_error:ratio_rate5m
// and so on, Sloth's names and sloth_* labels, so that Sloth's dashboards
// keep working). An SLI is written once with {{.window}} where the range
// goes; the generator writes each span there. The SLO window's ratio is the
// average of the 5-minute ratios over the window, and the budget left is
// 1 - that ratio / (1 - objective): 0.5 with half of it spent, below 0 once
// overspent. Ratios that are not numbers (no events at all) are not
// recorded, so that a quiet spell is a gap and not a NaN in the window's
// average for a month.
//
// # KPIs
//
// A KPI is a business ratio, such as matches per active user, checked
// against its own past: the value a week ago (offset), a moving average,
// or its average at the same time of day (or week) over the last N days
// (same_time), which takes the nightly dip as normal. It alerts when the
// ratio stays below (1 - max_drop) or above (1 + max_rise) times the
// baseline for the KPI's for, and only while the volume (by default the
// denominator) is at least min_volume, so that a handful of users at 4 a.m.
// do not page anyone.
//
// The package does no I/O: ParseSloth reads the bytes it is handed, and
// Generate and Render return values.
package slo
