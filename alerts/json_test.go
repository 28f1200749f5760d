package alerts

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// reference is the struct encoding/json would write for an alert.
type reference struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	UpdatedAt    time.Time         `json:"updatedAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Timeout      bool              `json:"timeout,omitempty"`
	Status       Status            `json:"status"`
}

// checkJSON compares the alert's encoding with encoding/json's, then does
// the same for the alert decoded from it (invalid UTF-8 comes back as
// U+FFFD, so the second encoding may differ from the first).
func checkJSON(t *testing.T, a Alert) {
	t.Helper()
	got := sameAsEncodingJSON(t, a)
	var back Alert
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	sameAsEncodingJSON(t, back)
	if back.Status.State != a.Status.State || !back.StartsAt.Equal(a.StartsAt) || back.GeneratorURL != a.GeneratorURL && utf8Valid(a.GeneratorURL) {
		t.Fatalf("round trip: %+v, want %+v", back, a)
	}
}

func utf8Valid(s string) bool {
	return !bytes.ContainsRune([]byte(s), 0xfffd) && string([]rune(s)) == s
}

func sameAsEncodingJSON(t *testing.T, a Alert) []byte {
	t.Helper()
	got, _ := json.Marshal(a)
	want, _ := json.Marshal(reference{a.Labels.Map(), a.Annotations.Map(), a.StartsAt, a.EndsAt, a.UpdatedAt, a.GeneratorURL, a.Timeout, a.Status})
	if !bytes.Equal(got, want) {
		t.Fatalf("alert JSON differs from encoding/json's:\n got  %s\n want %s", got, want)
	}
	return got
}

func TestAlertJSONIsEncodingJSONs(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	checkJSON(t, Alert{})
	checkJSON(t, Alert{Labels: labels.FromStrings("alertname", "A", "a", "<&>\"\\\n\t\x01ü\u2028\xff"), Annotations: labels.FromStrings("summary", "s"),
		StartsAt: t0, EndsAt: t0.Add(time.Hour), UpdatedAt: t0, GeneratorURL: "http://x/?a=1&b=<2>", Timeout: true,
		Status: Status{State: StateFiring, SilencedBy: []string{"s1", "s2"}, InhibitedBy: []string{"f"}, Receivers: []string{"r"}}})
}

func FuzzAlertJSON(f *testing.F) {
	f.Add("alertname", "A", "summary", "s <b>", "http://x")
	f.Add("a\x00", "\xff\xfe", "\u2029", "\"", "")
	f.Fuzz(func(t *testing.T, name, value, ann, annValue, url string) {
		checkJSON(t, Alert{Labels: labels.FromStrings(name, value), Annotations: labels.FromStrings(ann, annValue), GeneratorURL: url,
			StartsAt: time.Unix(1, 2).UTC(), Status: Status{State: StatePending, SilencedBy: []string{value}}})
	})
}
