package checklist

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/oncallhq/oncall/catalog"
)

// RecordKind says what a record is.
type RecordKind string

// The kinds of record.
const (
	// RecordAttestation is a person's word that a check is met (or does
	// not apply).
	RecordAttestation RecordKind = "attestation"
	// RecordWaiver excuses a check that is not met, for a reason, until
	// it expires.
	RecordWaiver RecordKind = "waiver"
	// RecordResult is a result pushed from outside: a CI job, the launch
	// email oncall sent.
	RecordResult RecordKind = "result"
)

// Record is an attestation, a waiver or a pushed result for one check of
// one service. Records are kept, never edited: the newest one of a kind
// that has not expired counts.
type Record struct {
	ID        int64      `json:"id,omitempty"`
	Kind      RecordKind `json:"kind"`
	Checklist string     `json:"checklist"`
	Check     string     `json:"check"`
	Service   string     `json:"service"`
	// Status is pass or na for an attestation, the result pushed for a
	// result, waived for a waiver.
	Status Status    `json:"status"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	// Expires is when the record stops counting.
	Expires time.Time `json:"expires"`
	// Text is the attestation's justification, the waiver's reason or
	// the result's summary.
	Text        string `json:"text,omitempty"`
	EvidenceURL string `json:"evidence_url,omitempty"`
	// Source is where the record came from: cli, api, a CI job's name,
	// smtp for the launch email oncall sent.
	Source string `json:"source,omitempty"`
}

// Current reports whether the record counts at now.
func (r Record) Current(now time.Time) bool { return now.Before(r.Expires) && !now.Before(r.At) }

// Request is what a person or a system asks to record.
type Request struct {
	Kind    RecordKind `json:"kind"`
	Check   string     `json:"check"`
	Service string     `json:"service"`
	// Status: an attestation's pass (default) or na; a result's status.
	Status      Status `json:"status,omitempty"`
	By          string `json:"by"`
	Text        string `json:"text,omitempty"`
	EvidenceURL string `json:"evidence_url,omitempty"`
	// Expires, when set, is when the record stops counting; ExpiresIn is
	// the same as a duration from now ("90d") or a date ("2027-01-31",
	// the record stops counting as it begins, UTC). A waiver needs one of them;
	// otherwise the check's valid_for applies.
	Expires   time.Time `json:"expires,omitzero"`
	ExpiresIn string    `json:"expires_in,omitempty"`
	Source    string    `json:"source,omitempty"`
}

// Record validates req against the checklist and the catalogue and returns
// the record to keep. An unknown check or service is refused with the list
// of valid ones (an *Unknown).
func (cl Checklist) Record(cat catalog.Catalog, req Request, now time.Time) (Record, error) {
	c, ok := cl.Check(req.Check)
	if !ok {
		return Record{}, &Unknown{What: "check", Name: req.Check, Valid: cl.IDs(), In: "checklist " + cl.Name}
	}
	if _, err := Service(cat, req.Service); err != nil {
		return Record{}, err
	}
	r := Record{Kind: req.Kind, Checklist: cl.Name, Check: c.ID, Service: req.Service, Status: req.Status, By: strings.TrimSpace(req.By),
		At: now.UTC(), Text: strings.TrimSpace(req.Text), EvidenceURL: strings.TrimSpace(req.EvidenceURL), Source: req.Source}
	var errs []error
	if r.By == "" {
		errs = append(errs, errors.New("by: say who records it"))
	}
	if r.EvidenceURL != "" {
		if u, err := url.Parse(r.EvidenceURL); err != nil || u.Scheme == "" || u.Host == "" && u.Opaque == "" {
			errs = append(errs, fmt.Errorf("evidence: %q is not an absolute URL", r.EvidenceURL))
		}
	}
	switch req.Kind {
	case RecordAttestation:
		if !c.takesAttestation() {
			errs = append(errs, fmt.Errorf("check %s is proven by %s, not attested: %s", c.ID, provenBy(c), remedy(c)))
		}
		switch r.Status {
		case "":
			r.Status = Pass
		case Pass:
		case NA:
			if r.Text == "" {
				errs = append(errs, errors.New("justification: say why the check does not apply"))
			}
		default:
			errs = append(errs, fmt.Errorf("status %q: an attestation says pass or n/a (waive a check that is not met)", r.Status))
		}
		if c.Evidence == EvidenceRequired && r.EvidenceURL == "" {
			errs = append(errs, fmt.Errorf("evidence: check %s needs an evidence URL (--evidence)", c.ID))
		} else if r.Status == Pass && r.Text == "" && r.EvidenceURL == "" {
			// A bare "yes" is not an attestation: say why, or show it.
			errs = append(errs, errors.New("justification: say why it is met (--justification TEXT) or link the evidence (--evidence URL)"))
		}
	case RecordWaiver:
		r.Status = Waived
		if r.Text == "" {
			errs = append(errs, errors.New("reason: a waiver needs a reason (--reason)"))
		}
		if req.Expires.IsZero() && req.ExpiresIn == "" {
			errs = append(errs, errors.New("expires: a waiver needs an expiry (--expires 30d)"))
		}
	case RecordResult:
		if c.Kind != KindExternal {
			errs = append(errs, fmt.Errorf("check %s is proven by %s: only an external check takes a pushed result", c.ID, provenBy(c)))
		}
		switch r.Status {
		case Pass, Fail, Warn, NA, Error:
		case "":
			errs = append(errs, errors.New("status: say pass, fail, warn, n/a or error"))
		default:
			errs = append(errs, fmt.Errorf("status %q: a pushed result is pass, fail, warn, n/a or error", r.Status))
		}
	default:
		errs = append(errs, fmt.Errorf("kind %q: want attestation, waiver or result", req.Kind))
	}
	switch {
	case req.ExpiresIn != "":
		if at, ok := parseDate(req.ExpiresIn); ok {
			r.Expires = at
			if !at.After(now) {
				errs = append(errs, fmt.Errorf("expires: %s is not in the future", req.ExpiresIn))
			}
			break
		}
		d, err := ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("expires: %q: want a positive duration such as 90d, or a date such as 2027-01-31", req.ExpiresIn))
		}
		r.Expires = r.At.Add(d)
	case !req.Expires.IsZero():
		r.Expires = req.Expires.UTC()
		if !r.Expires.After(now) {
			errs = append(errs, fmt.Errorf("expires: %s is not in the future", r.Expires.Format(time.RFC3339)))
		}
	default:
		r.Expires = r.At.Add(c.validFor())
	}
	if len(errs) > 0 {
		return Record{}, fmt.Errorf("%s %s for %s: %w", req.Kind, c.ID, req.Service, errors.Join(errs...))
	}
	return r, nil
}

// parseDate reads an expiry given as a date (2027-01-31: the record stops
// counting as that day begins, UTC) or an RFC 3339 time.
func parseDate(s string) (time.Time, bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// provenBy says in words what proves c.
func provenBy(c Check) string {
	switch c.Kind {
	case KindProbe:
		return "the " + c.Probe + " probe"
	case KindExternal:
		return "a pushed result"
	}
	return "an attestation"
}

// remedy says how c gets its result.
func remedy(c Check) string {
	if c.Kind == KindExternal {
		return "push its result (oncall checklist report)"
	}
	return "fix what the probe reports, or waive it"
}
