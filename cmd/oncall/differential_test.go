package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The same alert stream and the same alertmanager.yml through a real
// Alertmanager 0.25 and through oncall, each sending to its own webhook
// sink: the notifications — receiver, group key and labels, status, the
// alerts with their status and fingerprints — must be the same, in the same
// order, within a second of each other. The stream covers grouping, a late
// join, a partial resolution, repeat_interval, inhibition starting and
// ending, a silence, group_by ['...'] and send_resolved: false.
func TestDifferentialAgainstAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 35s")
	}
	amSink, ocSink := newSink(t), newSink(t)
	config := func(hooks string) string {
		return fmt.Sprintf(`
route:
  receiver: default
  group_by: [alertname, service]
  group_wait: 2s
  group_interval: 4s
  repeat_interval: 14s
  routes:
    - matchers: [severity="critical"]
      receiver: pager
      continue: true
    - matchers: [team="db"]
      receiver: db
      group_by: ['...']
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
receivers:
  - name: default
    webhook_configs: [{url: %[1]q, send_resolved: true}]
  - name: pager
    webhook_configs: [{url: %[2]q, send_resolved: true}]
  - name: db
    webhook_configs: [{url: %[3]q, send_resolved: false}]
`, hooks+"/default", hooks+"/pager", hooks+"/db")
	}
	am := startAlertmanager(t, config(amSink.URL))
	oc, _ := startOncall(t, "alerts: {alertmanager_config: alertmanager.yml}\n", map[string]string{"alertmanager.yml": config(ocSink.URL)})

	both := func(path string, body any) {
		t.Helper()
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, base := range []string{am, oc} {
			wg.Go(func() { codes[i] = post(t, base+path, body) })
		}
		wg.Wait()
		if codes[0] != 200 || codes[1] != 200 {
			t.Fatalf("POST %s: Alertmanager %d, oncall %d", path, codes[0], codes[1])
		}
	}
	t0 := time.Now().UTC()
	both("/api/v2/silences", map[string]any{"matchers": []map[string]any{{"name": "service", "value": "quiet", "isRegex": false}},
		"startsAt": t0, "endsAt": t0.Add(time.Hour), "createdBy": "test", "comment": "quiet service"})

	type step struct {
		at      time.Duration
		fire    [][]string
		resolve [][]string
	}
	errs := func(i string) []string { return []string{"alertname", "Errors", "service", "api", "instance", i} }
	disk := []string{"alertname", "Disk", "service", "web", "severity", "warning"}
	outage := []string{"alertname", "Outage", "service", "web", "severity", "critical"}
	slow := []string{"alertname", "Slow", "team", "db", "instance", "x"}
	stream := []step{
		{0, [][]string{errs("1"), errs("2"), {"alertname", "Noise", "service", "quiet"}}, nil},
		{1 * time.Second, [][]string{disk, outage}, nil},
		{2 * time.Second, [][]string{slow}, nil},
		{3 * time.Second, [][]string{errs("3")}, nil}, // a late join
		{7 * time.Second, nil, [][]string{errs("1")}}, // a partial resolution
		{9 * time.Second, nil, [][]string{slow}},      // resolved, send_resolved: false
		{12 * time.Second, nil, [][]string{outage}},   // the inhibition ends
	}
	started := map[string]time.Time{}
	alert := func(kv []string, at time.Time, resolved bool) map[string]any {
		ls := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			ls[kv[i]] = kv[i+1]
		}
		key := fmt.Sprint(kv)
		if _, ok := started[key]; !ok {
			started[key] = at.Truncate(time.Millisecond)
		}
		end := started[key].Add(time.Hour)
		if resolved {
			end = at.Truncate(time.Millisecond)
		}
		return map[string]any{"labels": ls, "annotations": map[string]string{"summary": ls["alertname"] + " on " + ls["service"]},
			"startsAt": started[key], "endsAt": end, "generatorURL": "http://prometheus/graph"}
	}
	start := time.Now()
	for _, st := range stream {
		time.Sleep(time.Until(start.Add(st.at)))
		now := time.Now().UTC()
		var batch []map[string]any
		for _, kv := range st.fire {
			batch = append(batch, alert(kv, now, false))
		}
		for _, kv := range st.resolve {
			batch = append(batch, alert(kv, now, true))
		}
		both("/api/v2/alerts", batch)
	}
	// Group ticks fall on whole seconds after the stream's start, except
	// those ≡ 1 (mod 4): stop there, clear of any tick.
	cutoff := start.Add(33 * time.Second)
	time.Sleep(time.Until(cutoff))

	byGroup := func(hs []hook) map[string][]hook {
		out := map[string][]hook{}
		for _, h := range hs {
			if h.At.After(cutoff) {
				continue
			}
			k := h.Path + " " + h.Body.GroupKey
			out[k] = append(out[k], h)
		}
		return out
	}
	want, got := byGroup(amSink.hooks()), byGroup(ocSink.hooks())
	var keys []string
	total := 0
	for k, hs := range want {
		keys = append(keys, k)
		total += len(hs)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, g := want[k], got[k]
		ws, gs := summaries(w), summaries(g)
		if !slices.Equal(ws, gs) {
			t.Errorf("group %s:\nAlertmanager sent %d:\n  %s\noncall sent %d:\n  %s", k, len(ws), strings.Join(ws, "\n  "), len(gs), strings.Join(gs, "\n  "))
			continue
		}
		for i := range w {
			if d := g[i].At.Sub(w[i].At); d > time.Second || d < -time.Second {
				t.Errorf("group %s, notification %d: oncall %v after Alertmanager (more than a second)", k, i+1, d)
			}
		}
	}
	// The stream makes Alertmanager notify this much; a test that compares
	// nothing proves nothing.
	if total < 8 {
		t.Errorf("Alertmanager sent only %d notifications: the stream did not exercise it", total)
	}
	t.Logf("compared %d notifications in %d groups", total, len(want))
}

func summaries(hs []hook) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Body.summary()
	}
	return out
}

// Bad input gets the same status code from oncall as from a real
// Alertmanager 0.25, in the same shape (a JSON string or a {code, message}
// object); the one deliberate difference is asserted, not hidden.
func TestBadInputLikeAlertmanager(t *testing.T) {
	am := startAlertmanager(t, "route: {receiver: x}\nreceivers: [{name: x}]\n")
	oc, _ := startOncall(t, "alerts: {routing: {route: {receiver: x}, receivers: [{name: x}]}}\n", nil)
	silence := func(extra string) string {
		return `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2099-11-23T11:00:00Z","createdBy":"x","comment":"c"` + extra + `}`
	}
	tests := []struct {
		name, method, path, body string
		// differs, when set, is oncall's status where it differs on purpose.
		differs int
	}{
		{"malformed JSON", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A"}`, 0},
		{"not an array", "POST", "/api/v2/alerts", `{"labels": {}}`, 0},
		{"no labels", "POST", "/api/v2/alerts", `[{"annotations": {"a": "b"}}]`, 0},
		{"label value not a string", "POST", "/api/v2/alerts", `[{"labels": {"alertname": 1}}]`, 0},
		{"invalid label name", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A", "bad-name": "x"}}]`, 0},
		{"a valid alert beside an invalid one", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A", "0x": "x"}}, {"labels": {"alertname": "B"}}]`, 0},
		{"end before start", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A"}, "startsAt": "2026-11-23T10:00:00Z", "endsAt": "2026-11-23T09:00:00Z"}]`, 0},
		{"empty label set", "POST", "/api/v2/alerts", `[{"labels": {}}]`, 0},
		{"good alerts", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A"}}]`, 0},
		{"bad filter", "GET", "/api/v2/alerts?filter=%7Bfoo", "", 0},
		{"bad receiver regex", "GET", "/api/v2/alerts?receiver=%28", "", 0},
		{"unknown silence", "GET", "/api/v2/silence/7c0b0ad4-7d0c-4f0e-8ad4-111111111111", "", 0},
		// Alertmanager 0.25 answers 500 to expiring an unknown silence; a
		// missing silence is the client's mistake, so oncall says 404, as
		// later Alertmanagers do.
		{"expire unknown silence", "DELETE", "/api/v2/silence/7c0b0ad4-7d0c-4f0e-8ad4-111111111111", "", http.StatusNotFound},
		{"silence without comment", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2099-11-23T11:00:00Z","createdBy":"x"}`, 0},
		{"silence without matchers", "POST", "/api/v2/silences", `{"matchers":[],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2099-11-23T11:00:00Z","createdBy":"x","comment":"c"}`, 0},
		{"silence ending before it starts", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2099-11-23T11:00:00Z","endsAt":"2099-11-23T10:00:00Z","createdBy":"x","comment":"c"}`, 0},
		{"silence ended", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2020-11-23T10:00:00Z","endsAt":"2020-11-23T11:00:00Z","createdBy":"x","comment":"c"}`, 0},
		{"silence matching everything", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":".*","isRegex":true}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2099-11-23T11:00:00Z","createdBy":"x","comment":"c"}`, 0},
		{"silence bad regex", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":"(","isRegex":true}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2099-11-23T11:00:00Z","createdBy":"x","comment":"c"}`, 0},
		{"edit unknown silence", "POST", "/api/v2/silences", silence(`,"id":"7c0b0ad4-7d0c-4f0e-8ad4-111111111111"`), 0},
		{"silence malformed", "POST", "/api/v2/silences", `{"matchers":`, 0},
		{"good silence", "POST", "/api/v2/silences", silence(""), 0},
	}
	do := func(base, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	shape := func(b string) string {
		switch {
		case b == "" || b == "null":
			return "empty"
		case strings.HasPrefix(b, `"`):
			return "string"
		case strings.HasPrefix(b, `{"code"`), strings.HasPrefix(b, `{"message"`), strings.Contains(b, `"code":`) && strings.Contains(b, `"message":`):
			return "schema error"
		}
		return "other"
	}
	for _, tc := range tests {
		amCode, amBody := do(am, tc.method, tc.path, tc.body)
		ocCode, ocBody := do(oc, tc.method, tc.path, tc.body)
		want := amCode
		if tc.differs != 0 {
			if amCode == tc.differs {
				t.Errorf("%s: Alertmanager now answers %d too: drop the documented difference", tc.name, amCode)
			}
			want = tc.differs
		}
		if ocCode != want {
			t.Errorf("%s: oncall %d %s; Alertmanager %d %s", tc.name, ocCode, ocBody, amCode, amBody)
			continue
		}
		if amCode >= 400 && tc.differs == 0 && shape(amBody) != shape(ocBody) {
			t.Errorf("%s: error shape: oncall %s (%s), Alertmanager %s (%s)", tc.name, shape(ocBody), ocBody, shape(amBody), amBody)
		}
	}
}
