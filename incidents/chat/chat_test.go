package chat

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestValidate(t *testing.T) {
	ok := Message{Incident: 7, Channel: "C0123", ID: "1700000000.000100", Text: "rolling back", At: time.Unix(1700000000, 0)}
	for _, tc := range []struct {
		name   string
		edit   func(*Message)
		reason string
	}{
		{"ok", func(*Message) {}, ""},
		{"no incident", func(m *Message) { m.Incident = 0 }, "no incident"},
		{"no id", func(m *Message) { m.ID = "" }, "no message id"},
		{"no time", func(m *Message) { m.At = time.Time{} }, "no time"},
		{"no channel", func(m *Message) { m.Channel = "" }, "no channel"},
		{"spaces", func(m *Message) { m.Channel = "#inc 7" }, `channel "#inc 7"`},
		{"escape", func(m *Message) { m.Channel = "C1\x1b[31m" }, "want a channel ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ok
			tc.edit(&m)
			err := m.Validate()
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err %v, want ErrInvalid saying %q", err, tc.reason)
			}
		})
	}
}

// Clip keeps short texts whole and cuts long ones on a character
// boundary, marking the cut.
func TestClip(t *testing.T) {
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	long := strings.Repeat("é", MaxText) // two bytes each
	got := Clip(long)
	if !strings.HasSuffix(got, " […]") || len(got) > MaxText+len(" […]") || !utf8.ValidString(got) {
		t.Errorf("Clip(long): %d bytes, valid %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-8:])
	}
}
