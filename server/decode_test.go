package server

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// referenceAlert is what encoding/json makes of a posted alert.
type referenceAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     dateTime          `json:"startsAt"`
	EndsAt       dateTime          `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

func pairMap(ps []labels.Label) map[string]string {
	if ps == nil {
		return nil
	}
	m := map[string]string{}
	for _, l := range ps {
		if _, dup := m[l.Name]; dup {
			return map[string]string{"duplicate pair": l.Name}
		}
		m[l.Name] = l.Value
	}
	return m
}

// decodeMatchesEncodingJSON holds the hand-written decoder to
// encoding/json's verdict on body: both refuse it, or both read the same
// alerts.
func decodeMatchesEncodingJSON(t *testing.T, body []byte) {
	t.Helper()
	var ref []referenceAlert
	refErr := json.Unmarshal(body, &ref)
	got, err := (&decoder{b: body}).alerts()
	if (err != nil) != (refErr != nil) {
		t.Fatalf("%q: decoder error %v, encoding/json error %v", body, err, refErr)
	}
	if err != nil {
		return
	}
	if len(got) != len(ref) || (got == nil) != (ref == nil) {
		t.Fatalf("%q: %d alerts (nil %v), encoding/json %d (nil %v)", body, len(got), got == nil, len(ref), ref == nil)
	}
	for i := range got {
		g, r := got[i], ref[i]
		if g.HasLabels != (r.Labels != nil) || !maps.Equal(pairMap(g.Labels), r.Labels) || !maps.Equal(pairMap(g.Annotations), r.Annotations) ||
			!g.StartsAt.Equal(r.StartsAt.Time) || !g.EndsAt.Equal(r.EndsAt.Time) || g.GeneratorURL != r.GeneratorURL {
			t.Fatalf("%q alert %d:\n decoder       %+v\n encoding/json %+v", body, i, g, r)
		}
	}
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`[]`, `null`, `[null]`, ` [ { "labels" : { "a" : "b" } } ] `,
		`[{"labels": {"alertname": "A", "a": "1", "a": "2"}, "annotations": {"s": null}, "startsAt": "2026-11-23T10:00:00.5Z", "endsAt": null, "generatorURL": "http://x"}]`,
		`[{"Labels": {"a": "b"}, "LABELS": {"c": "d"}, "labels": null}]`,
		`[{"labels": {"a": "b"}, "extra": [1, -2.5e+3, true, false, null, {"x": [{}]}, "s\u00e9"]}]`,
		`[{"labels": {"a\u0000": "\ud83d\ude00 \ud83d x \udc00 \\\/\b\f\n\r\t"}}]`,
		"[{\"labels\": {\"a\": \"\xff\xfe raw\"}}]",
		`[{"labels": {"a": 1}}]`, `[{"labels": "x"}]`, `[{"startsAt": 5}]`, `[{"startsAt": "yesterday"}]`, `[{"generatorURL": 5}]`,
		`[{"labels": {}}] x`, `[{"labels": {}},]`, `[{"labels": {"a": "b"}`, `[01]`, `[-]`, `[1.]`, `[1e]`, `["\x"]`, `[tru]`, "[\"a\x01\"]",
	} {
		decodeMatchesEncodingJSON(t, []byte(body))
	}
}

func FuzzDecodeAlerts(f *testing.F) {
	for _, b := range batches(2000, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))[:1] {
		f.Add(b[:300])
		f.Add(append(bytes.Clone(b[:120]), "]}]"...))
	}
	f.Add([]byte(`[{"labels": {"alertname": "A"}, "annotations": {"summary": "s"}, "startsAt": "2026-11-23T10:00:00Z", "generatorURL": "http://prom/graph?g0.expr=up"}]`))
	f.Add([]byte(`[{"Labels": {"a": "\ud800"}, "labels": null, "x": {"y": [1, 2e-3, null]}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeMatchesEncodingJSON(t, body)
	})
}

// BenchmarkDecodeAlerts reads one ampost batch of 1,000 alerts.
func BenchmarkDecodeAlerts(b *testing.B) {
	body := batches(1000, time.Now())[0]
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeAlerts(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// appendGettable writes the bytes encoding/json writes for the API shape.
func TestAppendGettableIsMarshal(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 5, time.UTC)
	for _, al := range []alerts.Alert{
		{Labels: labels.FromStrings("alertname", "A")},
		{Labels: labels.FromStrings("alertname", "A", "x", "<&>\"é\u2028"), Annotations: labels.FromStrings("summary", "s"), StartsAt: t0, EndsAt: t0.Add(time.Hour),
			UpdatedAt: t0, GeneratorURL: "http://p/g?x=<1>", Status: alerts.Status{State: alerts.StateFiring, SilencedBy: []string{"s1"}, InhibitedBy: []string{"f"}, Receivers: []string{"r1", "r\"2"}}},
	} {
		got := appendGettable(nil, &al)
		want, _ := json.Marshal(toGettable(&al))
		if !bytes.Equal(got, want) {
			t.Errorf("appendGettable:\n got  %s\n want %s", got, want)
		}
	}
}
