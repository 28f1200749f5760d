package checklist

import (
	"fmt"
	"slices"
	"time"

	"github.com/oncallhq/oncall/catalog"
)

// Link is one link of a chain a probe walks (rule → series → route →
// on-call), each reported on its own so that a failure names the link.
type Link struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Result is the outcome of one check for one service, with the check's
// own description copied in so that a stored run reads on its own.
type Result struct {
	Check    string `json:"check"`
	Title    string `json:"title"`
	Category string `json:"category,omitempty"`
	Level    string `json:"level"`
	Kind     Kind   `json:"kind"`
	// Required says the run's level requires the check.
	Required bool     `json:"required"`
	Status   Status   `json:"status"`
	Summary  string   `json:"summary"`
	Details  []string `json:"details,omitempty"`
	Links    []Link   `json:"links,omitempty"`
	// Source is what decided the status: probe, attestation, result,
	// waiver (empty when nothing was reported).
	Source string `json:"source,omitempty"`
	// Underlying is what a waived check's status would have been.
	Underlying  Status    `json:"underlying,omitempty"`
	By          string    `json:"by,omitempty"`
	EvidenceURL string    `json:"evidence_url,omitempty"`
	Expires     time.Time `json:"expires,omitzero"`
	// Duration is how long the probe took.
	Duration    time.Duration `json:"duration,omitempty"`
	Remediation string        `json:"remediation,omitempty"`
	// Line is where the check is defined in the checklist's file.
	Line int `json:"line,omitempty"`
}

// Outcome is the verdict of a run at its level.
type Outcome string

// The outcomes of a run.
const (
	OutcomePass  Outcome = "pass"  // every check the level requires holds
	OutcomeFail  Outcome = "fail"  // a required check fails or is not reported
	OutcomeError Outcome = "error" // nothing required fails, but a required probe could not run
)

// Run is one evaluation of a checklist for a service: what is stored and
// what every report format writes.
type Run struct {
	ID        int64  `json:"id,omitempty"`
	Checklist string `json:"checklist"`
	Title     string `json:"title"`
	// File is the checklist's file (for locations in reports).
	File    string   `json:"file,omitempty"`
	Service string   `json:"service"`
	Tier    int      `json:"tier,omitempty"`
	Levels  []string `json:"levels"`
	// Level is the level required; LevelReason why (tier 1, asked for,
	// default).
	Level       string `json:"level"`
	LevelReason string `json:"level_reason"`
	// Achieved is the highest level whose checks all hold ("" if none).
	Achieved string    `json:"achieved"`
	Outcome  Outcome   `json:"outcome"`
	At       time.Time `json:"at"`
	By       string    `json:"by,omitempty"`
	Results  []Result  `json:"results"`
}

// ExitCode is the exit status for the run: 0 the level passes, 1 a
// required check fails (or is not reported), 2 a required probe could not
// run and nothing required fails.
func (r Run) ExitCode() int {
	switch r.Outcome {
	case OutcomePass:
		return 0
	case OutcomeError:
		return 2
	}
	return 1
}

// Counts counts the results by status.
func (r Run) Counts() map[Status]int {
	out := map[Status]int{}
	for _, res := range r.Results {
		out[res.Status]++
	}
	return out
}

// Result returns the result of the named check.
func (r Run) Result(check string) (Result, bool) {
	for _, res := range r.Results {
		if res.Check == check {
			return res, true
		}
	}
	return Result{}, false
}

// ExpiringWithin is how soon an expiring record is worth a mention.
const ExpiringWithin = 14 * 24 * time.Hour

// Evaluate decides every check of cl for svc at level (see RequiredLevel)
// from the probes' results and the records of the service, at now.
func Evaluate(cl Checklist, svc catalog.Service, level, why string, probed map[string]Result, records []Record, now time.Time) Run {
	run := Run{Checklist: cl.Name, Title: cl.Title, File: cl.File, Service: svc.Name, Tier: svc.Tier, Levels: slices.Clone(cl.Levels),
		Level: level, LevelReason: why, At: now.UTC()}
	latest := latestRecords(records, cl.Name, svc.Name)
	for _, c := range cl.Checks {
		res := decide(c, probed, latest, now)
		res.Check, res.Title, res.Category, res.Level, res.Kind, res.Line = c.ID, c.Title, c.Category, c.Level, c.Kind, c.Line
		res.Required = cl.Rank(c.Level) <= cl.Rank(level)
		if !res.Status.Holds() || res.Status == Warn || res.Status == Waived {
			res.Remediation = c.Remediation
		}
		run.Results = append(run.Results, res)
	}
	run.Achieved = achieved(cl, run.Results)
	run.Outcome = OutcomePass
	for _, res := range run.Results {
		switch {
		case !res.Required:
		case res.Status == Fail || res.Status == NotReported:
			run.Outcome = OutcomeFail
		case res.Status == Error && run.Outcome == OutcomePass:
			run.Outcome = OutcomeError
		}
	}
	return run
}

// key names a check's records of one kind.
type key struct {
	check string
	kind  RecordKind
}

// latestRecords is the newest record of each check and kind.
func latestRecords(records []Record, checklist, service string) map[key]Record {
	out := map[key]Record{}
	for _, r := range records {
		if r.Checklist != checklist || r.Service != service {
			continue
		}
		k := key{r.Check, r.Kind}
		if prev, ok := out[k]; !ok || r.At.After(prev.At) || r.At.Equal(prev.At) && r.ID > prev.ID {
			out[k] = r
		}
	}
	return out
}

// decide is one check's result before the level is applied.
func decide(c Check, probed map[string]Result, latest map[key]Record, now time.Time) Result {
	var res Result
	attestation, hasAttestation := latest[key{c.ID, RecordAttestation}]
	switch c.Kind {
	case KindProbe:
		var ok bool
		if res, ok = probed[c.ID]; !ok {
			res = Result{Status: NotReported, Summary: "the probe did not run"}
		}
		res.Source = "probe"
		if c.Attestable && res.Status != Pass && res.Status != Warn && hasAttestation {
			probe := res
			res = fromRecord(attestation, now)
			if res.Status.Holds() {
				res.Details = append([]string{"probe: " + probe.Summary}, res.Details...)
				res.Links = probe.Links
			} else {
				res = probe
				res.Details = append(res.Details, fromRecord(attestation, now).Summary)
			}
		}
	case KindAttestation:
		res = Result{Status: NotReported, Summary: "nobody has attested it"}
		if hasAttestation {
			res = fromRecord(attestation, now)
		}
	case KindExternal:
		res = Result{Status: NotReported, Summary: "no result has been pushed"}
		if r, ok := latest[key{c.ID, RecordResult}]; ok {
			res = fromRecord(r, now)
		}
	}
	if w, ok := latest[key{c.ID, RecordWaiver}]; ok && !res.Status.Holds() {
		if w.Current(now) {
			under := res
			res = fromRecord(w, now)
			res.Underlying = under.Status
			res.Details = append([]string{under.Status.Label() + ": " + under.Summary}, res.Details...)
			res.Links = under.Links
			res.Duration = under.Duration
		} else {
			res.Details = append(res.Details, fmt.Sprintf("a waiver by %s expired on %s", w.By, isoDay(w.Expires)))
		}
	}
	return res
}

// fromRecord is the result a record gives at now: its status while
// current, not reported once expired.
func fromRecord(r Record, now time.Time) Result {
	res := Result{Status: r.Status, Source: string(r.Kind), By: r.By, EvidenceURL: r.EvidenceURL, Expires: r.Expires}
	what := map[RecordKind]string{RecordAttestation: "attested", RecordWaiver: "waived", RecordResult: "reported"}[r.Kind]
	if r.Source != "" && r.Kind == RecordResult {
		what += " via " + r.Source
	}
	if now.Before(r.At) {
		return Result{Status: NotReported, Source: string(r.Kind), By: r.By, EvidenceURL: r.EvidenceURL, Expires: r.Expires,
			Summary: fmt.Sprintf("%s by %s on %s, after this run", what, r.By, isoDay(r.At))}
	}
	if !r.Current(now) {
		return Result{Status: NotReported, Source: string(r.Kind), By: r.By, EvidenceURL: r.EvidenceURL, Expires: r.Expires,
			Summary: fmt.Sprintf("%s by %s on %s, expired on %s", what, r.By, isoDay(r.At), isoDay(r.Expires))}
	}
	res.Summary = fmt.Sprintf("%s by %s on %s", what, r.By, isoDay(r.At))
	if r.Status == NA {
		res.Summary = "does not apply: " + res.Summary
	}
	if r.Text != "" {
		res.Summary += ": " + r.Text
	}
	if left := r.Expires.Sub(now); left < ExpiringWithin {
		res.Details = append(res.Details, fmt.Sprintf("expires in %s (%s)", daysLeft(left), isoDay(r.Expires)))
	}
	return res
}

func isoDay(t time.Time) string { return t.UTC().Format("2006-01-02") }

func daysLeft(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	switch {
	case n == 0:
		return "less than a day"
	case n == 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// achieved is the highest level all of whose checks hold.
func achieved(cl Checklist, results []Result) string {
	best := ""
	for i, l := range cl.Levels {
		for _, r := range results {
			if cl.Rank(r.Level) <= i && !r.Status.Holds() {
				return best
			}
		}
		best = l
	}
	return best
}
