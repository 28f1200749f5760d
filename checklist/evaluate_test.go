package checklist

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/catalog"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var cat = catalog.Catalog{Services: []catalog.Service{{Name: "matchmaking", Tier: 2}, {Name: "search", Tier: 1}, {Name: "batch"}}}

// Records for an unknown check or service are refused with the valid
// ones; each kind needs what it needs.
func TestRecordValidation(t *testing.T) {
	cl := Builtin()[0]
	for _, tc := range []struct {
		name string
		req  Request
		want string // "" accepts
		// expires is the expiry of an accepted record, from t0.
		expires time.Duration
	}{
		{"unknown check", Request{Kind: RecordAttestation, Check: "uses-ssl", Service: "matchmaking", By: "ana"},
			`unknown check "uses-ssl" in checklist prod (checks: alerts-a-human, enforces-ssl, ops-docs, launch-email, lifecycle-board, structured-logging, security-audit, credentials-rotation, staging-parity, simulated-failures)`, 0},
		{"unknown service", Request{Kind: RecordAttestation, Check: "credentials-rotation", Service: "matchmakin", By: "ana", EvidenceURL: "https://wiki/x"},
			`unknown service "matchmakin" in the catalogue (services: matchmaking, search, batch)`, 0},
		{"attestation", Request{Kind: RecordAttestation, Check: "credentials-rotation", Service: "matchmaking", By: "ana", EvidenceURL: "https://wiki.example.com/creds"}, "", 180 * day},
		{"attestation for its own time", Request{Kind: RecordAttestation, Check: "credentials-rotation", Service: "matchmaking", By: "ana", EvidenceURL: "https://wiki/x", ExpiresIn: "30d"}, "", 30 * day},
		{"evidence required", Request{Kind: RecordAttestation, Check: "credentials-rotation", Service: "matchmaking", By: "ana"}, "evidence: check credentials-rotation needs an evidence URL", 0},
		{"evidence not a URL", Request{Kind: RecordAttestation, Check: "credentials-rotation", Service: "matchmaking", By: "ana", EvidenceURL: "wiki page"}, `evidence: "wiki page" is not an absolute URL`, 0},
		{"probe check is not attested", Request{Kind: RecordAttestation, Check: "enforces-ssl", Service: "matchmaking", By: "ana"}, "check enforces-ssl is proven by the tls probe, not attested", 0},
		{"attestable probe", Request{Kind: RecordAttestation, Check: "simulated-failures", Service: "matchmaking", By: "ana", EvidenceURL: "https://wiki/gameday"}, "", 180 * day},
		{"n/a needs a justification", Request{Kind: RecordAttestation, Check: "lifecycle-board", Service: "matchmaking", By: "ana", Status: NA, EvidenceURL: "https://b/1"}, "justification: say why", 0},
		{"attestation says pass or n/a", Request{Kind: RecordAttestation, Check: "lifecycle-board", Service: "matchmaking", By: "ana", Status: Fail, EvidenceURL: "https://b/1"}, `status "fail": an attestation says pass or n/a`, 0},
		{"nobody", Request{Kind: RecordAttestation, Check: "lifecycle-board", Service: "matchmaking", EvidenceURL: "https://b/1"}, "by: say who", 0},
		{"waiver", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", Text: "internal only until the LB moves", ExpiresIn: "14d"}, "", 14 * day},
		{"waiver without a reason", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", ExpiresIn: "14d"}, "reason: a waiver needs a reason", 0},
		{"waiver without an expiry", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", Text: "x"}, "expires: a waiver needs an expiry", 0},
		{"expired already", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", Text: "x", Expires: t0.Add(-time.Hour)}, "is not in the future", 0},
		{"bad expiry", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", Text: "x", ExpiresIn: "forever"}, `expires: "forever": want a positive duration`, 0},
		{"waiver until a date", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", Text: "x", ExpiresIn: "2026-12-03"}, "", 9*day + 14*time.Hour},
		{"waiver until a time", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", Text: "x", ExpiresIn: "2026-11-23T12:00:00+01:00"}, "", time.Hour},
		{"a date gone", Request{Kind: RecordWaiver, Check: "enforces-ssl", Service: "matchmaking", By: "ana", Text: "x", ExpiresIn: "2026-11-23"}, "expires: 2026-11-23 is not in the future", 0},
		{"pushed result", Request{Kind: RecordResult, Check: "security-audit", Service: "search", By: "ci", Status: Pass, EvidenceURL: "https://jira/SEC-1"}, "", 365 * day},
		{"pushed result for a probe", Request{Kind: RecordResult, Check: "enforces-ssl", Service: "search", By: "ci", Status: Pass}, "only an external check takes a pushed result", 0},
		{"pushed waived", Request{Kind: RecordResult, Check: "security-audit", Service: "search", By: "ci", Status: Waived}, `status "waived": a pushed result is pass, fail, warn, n/a or error`, 0},
		{"pushed without a status", Request{Kind: RecordResult, Check: "security-audit", Service: "search", By: "ci"}, "status: say pass", 0},
		{"bad kind", Request{Kind: "vote", Check: "security-audit", Service: "search", By: "ci"}, `kind "vote"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := cl.Record(cat, tc.req, t0)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !r.At.Equal(t0) || !r.Expires.Equal(t0.Add(tc.expires)) || r.Checklist != "prod" || r.Kind != tc.req.Kind {
				t.Errorf("record %+v, want expiry %v", r, t0.Add(tc.expires))
			}
		})
	}
	_, err := cl.Record(cat, Request{Kind: RecordAttestation, Check: "nope", Service: "matchmaking", By: "a"}, t0)
	var u *Unknown
	if !errors.As(err, &u) || u.What != "check" || len(u.Valid) != 10 {
		t.Errorf("unknown check: %#v", err)
	}
}

// An attestation says why (a justification) or shows it (an evidence
// URL): a bare yes is refused, even where evidence is optional.
func TestAttestationSaysWhy(t *testing.T) {
	cl := mini(t)
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{Kind: RecordAttestation, Check: "board", Service: "matchmaking", By: "ana"}, "justification: say why it is met (--justification TEXT) or link the evidence (--evidence URL)"},
		{Request{Kind: RecordAttestation, Check: "board", Service: "matchmaking", By: "ana", Text: "the card is in Production"}, ""},
		{Request{Kind: RecordAttestation, Check: "board", Service: "matchmaking", By: "ana", EvidenceURL: "https://board.example.com/42"}, ""},
	} {
		_, err := cl.Record(cat, tc.req, t0)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.req, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want %q", tc.req, err, tc.want)
		}
	}
}

// mini is a checklist with one check of each kind at each level.
func mini(t *testing.T) Checklist {
	t.Helper()
	cl, err := Parse("mini.yaml", []byte(`name: mini
tiers: {1: gold, 2: silver}
checks:
  - {id: tls, title: TLS, level: bronze, probe: tls}
  - {id: board, title: Board, level: bronze, kind: attestation}
  - {id: audit, title: Audit, level: silver, kind: external}
  - {id: drill, title: Drill, level: silver, probe: drill, attestable: true}
  - {id: parity, title: Parity, level: gold, probe: staging}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func rec(kind RecordKind, check string, st Status, at time.Time, ttl time.Duration) Record {
	return Record{Kind: kind, Checklist: "mini", Check: check, Service: "matchmaking", Status: st, By: "ana", At: at, Expires: at.Add(ttl), Text: "because"}
}

func TestEvaluate(t *testing.T) {
	cl := mini(t)
	svc, _ := cat.Get("matchmaking")
	pass := func(s string) Result { return Result{Status: Pass, Summary: s} }
	allProbes := map[string]Result{"tls": pass("https"), "drill": pass("INC-3"), "parity": pass("same")}
	allRecords := []Record{rec(RecordAttestation, "board", Pass, t0.Add(-day), 90*day), rec(RecordResult, "audit", Pass, t0.Add(-day), 90*day)}
	for _, tc := range []struct {
		name     string
		level    string
		probes   map[string]Result
		records  []Record
		status   map[string]Status
		achieved string
		outcome  Outcome
		code     int
	}{
		{"everything holds", "silver", allProbes, allRecords,
			map[string]Status{"tls": Pass, "board": Pass, "audit": Pass, "drill": Pass, "parity": Pass}, "gold", OutcomePass, 0},
		{"nothing reported", "bronze", map[string]Result{}, nil,
			map[string]Status{"tls": NotReported, "board": NotReported, "audit": NotReported}, "", OutcomeFail, 1},
		{"a required probe fails", "silver", map[string]Result{"tls": {Status: Fail, Summary: "no redirect"}, "drill": pass("x"), "parity": pass("x")}, allRecords,
			map[string]Status{"tls": Fail}, "", OutcomeFail, 1},
		{"a probe above the level fails", "silver", map[string]Result{"tls": pass("x"), "drill": pass("x"), "parity": {Status: Fail}}, allRecords,
			map[string]Status{"parity": Fail}, "silver", OutcomePass, 0},
		{"a required probe could not run", "silver", map[string]Result{"tls": {Status: Error, Summary: "unreachable"}, "drill": pass("x"), "parity": pass("x")}, allRecords,
			map[string]Status{"tls": Error}, "", OutcomeError, 2},
		{"a failure outranks an error", "silver", map[string]Result{"tls": {Status: Error}, "drill": {Status: Fail}, "parity": pass("x")}, allRecords,
			map[string]Status{"tls": Error, "drill": Fail}, "", OutcomeFail, 1},
		{"a warning does not block", "gold", map[string]Result{"tls": {Status: Warn, Summary: "expires in 20 days"}, "drill": pass("x"), "parity": pass("x")}, allRecords,
			map[string]Status{"tls": Warn}, "gold", OutcomePass, 0},
		{"a waiver excuses a failure", "bronze", map[string]Result{"tls": {Status: Fail, Summary: "no HSTS"}}, append(allRecords, rec(RecordWaiver, "tls", Waived, t0.Add(-day), 7*day)),
			map[string]Status{"tls": Waived}, "bronze", OutcomePass, 0},
		{"an expired waiver does not", "bronze", map[string]Result{"tls": {Status: Fail, Summary: "no HSTS"}}, append(allRecords, rec(RecordWaiver, "tls", Waived, t0.Add(-30*day), 7*day)),
			map[string]Status{"tls": Fail}, "", OutcomeFail, 1},
		{"an expired attestation does not count", "bronze", allProbes, []Record{rec(RecordAttestation, "board", Pass, t0.Add(-100*day), 90*day)},
			map[string]Status{"board": NotReported}, "", OutcomeFail, 1},
		{"the newest record wins", "bronze", allProbes, []Record{rec(RecordAttestation, "board", Pass, t0.Add(-2*day), 90*day), rec(RecordAttestation, "board", NA, t0.Add(-day), 90*day)},
			map[string]Status{"board": NA}, "bronze", OutcomePass, 0},
		{"an attestation stands in for a drill", "silver", map[string]Result{"tls": pass("x"), "drill": {Status: Fail, Summary: "no drill"}, "parity": pass("x")},
			append(allRecords, rec(RecordAttestation, "drill", Pass, t0.Add(-day), 90*day)), map[string]Status{"drill": Pass}, "gold", OutcomePass, 0},
		{"a pushed failure", "silver", allProbes, []Record{rec(RecordAttestation, "board", Pass, t0.Add(-day), 90*day), rec(RecordResult, "audit", Fail, t0.Add(-day), 90*day)},
			map[string]Status{"audit": Fail}, "bronze", OutcomeFail, 1},
		{"another service's records do not count", "bronze", allProbes, []Record{{Kind: RecordAttestation, Checklist: "mini", Check: "board", Service: "search", Status: Pass, At: t0, Expires: t0.Add(day)}},
			map[string]Status{"board": NotReported}, "", OutcomeFail, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := Evaluate(cl, svc, tc.level, "asked for", tc.probes, tc.records, t0)
			for id, want := range tc.status {
				if r, _ := run.Result(id); r.Status != want {
					t.Errorf("%s: %s (%s), want %s", id, r.Status, r.Summary, want)
				}
			}
			if run.Achieved != tc.achieved || run.Outcome != tc.outcome || run.ExitCode() != tc.code {
				t.Errorf("achieved %q outcome %s exit %d, want %q %s %d", run.Achieved, run.Outcome, run.ExitCode(), tc.achieved, tc.outcome, tc.code)
			}
		})
	}
}

// What a result says about where it comes from: the waived status it
// hides, the attestation's author and expiry, the probe it stands in for.
func TestEvaluateExplains(t *testing.T) {
	cl := mini(t)
	svc, _ := cat.Get("matchmaking")
	run := Evaluate(cl, svc, "silver", "tier 2", map[string]Result{
		"tls":   {Status: Fail, Summary: "no HSTS", Links: []Link{{Name: "hsts", Status: Fail}}},
		"drill": {Status: Fail, Summary: "no drill in 90 days"},
	}, []Record{
		rec(RecordWaiver, "tls", Waived, t0.Add(-day), 10*day),
		rec(RecordAttestation, "drill", Pass, t0.Add(-day), 5*day),
	}, t0)
	tls, _ := run.Result("tls")
	if tls.Status != Waived || tls.Underlying != Fail || tls.Source != "waiver" || len(tls.Links) != 1 ||
		!strings.Contains(tls.Summary, "waived by ana on 2026-11-22: because") || !strings.Contains(strings.Join(tls.Details, "|"), "fail: no HSTS") {
		t.Errorf("waived: %+v", tls)
	}
	drill, _ := run.Result("drill")
	if drill.Status != Pass || drill.Source != "attestation" || !strings.Contains(strings.Join(drill.Details, "|"), "probe: no drill in 90 days") ||
		!strings.Contains(strings.Join(drill.Details, "|"), "expires in 4 days (2026-11-27)") {
		t.Errorf("attested drill: %+v", drill)
	}
	if p, _ := run.Result("parity"); p.Required || p.Status != NotReported {
		t.Errorf("parity is gold: not required at silver, and not run: %+v", p)
	}
	if a, _ := run.Result("audit"); !a.Required || a.Remediation != "" && a.Status.Holds() {
		t.Errorf("audit: %+v", a)
	}
	if run.LevelReason != "tier 2" || run.Levels[2] != "gold" || run.Title != "mini" {
		t.Errorf("run: %+v", run)
	}
}

func TestRequiredLevel(t *testing.T) {
	cl := mini(t)
	for _, tc := range []struct {
		svc      catalog.Service
		override string
		level    string
		why      string
	}{
		{catalog.Service{Name: "a", Tier: 1}, "", "gold", "tier 1"},
		{catalog.Service{Name: "a", Tier: 2}, "", "silver", "tier 2"},
		{catalog.Service{Name: "a", Tier: 4}, "", "bronze", "default"},
		{catalog.Service{Name: "a"}, "", "bronze", "default"},
		{catalog.Service{Name: "a", Tier: 1}, "bronze", "bronze", "asked for"},
	} {
		l, why, err := cl.RequiredLevel(tc.svc, tc.override)
		if err != nil || l != tc.level || why != tc.why {
			t.Errorf("%+v %q: %s %s %v, want %s %s", tc.svc, tc.override, l, why, err, tc.level, tc.why)
		}
	}
	if _, _, err := cl.RequiredLevel(catalog.Service{}, "platinum"); err == nil || !strings.Contains(err.Error(), "bronze, silver, gold") {
		t.Errorf("unknown level: %v", err)
	}
}

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]Status{"pass": Pass, "n/a": NA, "NA": NA, "not-reported": NotReported, "WARN": Warn} {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	if _, err := ParseStatus("ok"); err == nil {
		t.Error("ok parsed")
	}
}
