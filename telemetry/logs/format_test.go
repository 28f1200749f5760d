package logs

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain fixes the globals the format tests depend on before any test (or
// goroutine a test leaves behind) runs: local time is UTC, and RFC 3164
// syslog lines, which carry no year, are read as 2026.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	syslogYear = 2026
	os.Exit(m.Run())
}

// Every format's sample lines parse with it, and are detected as it.
func TestFormatSamples(t *testing.T) {
	for _, f := range Formats {
		var lines [][]byte
		for _, s := range f.Samples {
			if _, ok := f.Parse([]byte(s)); !ok {
				t.Errorf("%s: sample does not parse: %s", f.Name, s)
			}
			lines = append(lines, []byte(s))
		}
		if got := Detect(lines); got != f {
			t.Errorf("%s samples detected as %v", f.Name, got.Name)
		}
	}
}

func TestFormatFields(t *testing.T) {
	tests := []struct {
		format, line string
		want         Entry
	}{
		{"nginx", `203.0.113.7 - - [23/Nov/2026:10:00:00 +0000] "GET /v1/matches?limit=20 HTTP/1.1" 502 157 "-" "curl/8"`,
			Entry{Time: time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("", 0)), Level: LevelError, Message: "GET /v1/matches?limit=20",
				Fields: map[string]string{"remote_addr": "203.0.113.7", "method": "GET", "path": "/v1/matches?limit=20", "protocol": "HTTP/1.1", "status": "502", "bytes": "157", "user_agent": "curl/8"}}},
		{"syslog", `<11>Nov 23 10:00:00 web-1 matchmaking[4242]: upstream timed out`,
			Entry{Time: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Level: LevelError, Service: "matchmaking", Message: "upstream timed out", Fields: map[string]string{"host": "web-1", "pid": "4242"}}},
		{"syslog", `<165>1 2026-11-23T10:00:00.003Z web-1 push 981 ID47 - delivery failed`,
			Entry{Time: time.Date(2026, 11, 23, 10, 0, 0, 3e6, time.UTC), Level: LevelInfo, Service: "push", Message: "delivery failed", Fields: map[string]string{"host": "web-1", "pid": "981", "msgid": "ID47"}}},
		{"go", `2026/11/23 10:00:00.123456 server.go:88: ERROR matcher pool exhausted`,
			Entry{Time: time.Date(2026, 11, 23, 10, 0, 0, 123456000, time.UTC), Level: LevelError, Message: "matcher pool exhausted", Fields: map[string]string{"caller": "server.go:88"}}},
		{"python", `ERROR:matchmaking.worker:candidate query failed`,
			Entry{Level: LevelError, Service: "matchmaking.worker", Message: "candidate query failed"}},
		{"python", `2026-11-23 10:00:00,123 - matchmaking.api - WARNING - retrying request`,
			Entry{Time: time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.UTC), Level: LevelWarn, Service: "matchmaking.api", Message: "retrying request"}},
	}
	tests = append(tests, struct {
		format, line string
		want         Entry
	}{"json", `{"__REALTIME_TIMESTAMP":"1795428000123456","PRIORITY":"3","SYSLOG_IDENTIFIER":"matchmaking","_PID":"4242","MESSAGE":"upstream timed out"}`,
		Entry{Time: time.UnixMicro(1795428000123456).UTC(), Level: LevelError, Service: "matchmaking", Message: "upstream timed out", Fields: map[string]string{"_PID": "4242"}}})
	for _, tc := range tests {
		var f *Format
		for _, x := range Formats {
			if x.Name == tc.format {
				f = x
			}
		}
		got, ok := f.Parse([]byte(tc.line))
		if !ok {
			t.Fatalf("%s: does not parse: %s", tc.format, tc.line)
		}
		if !got.Time.Equal(tc.want.Time) || got.Level != tc.want.Level || got.Service != tc.want.Service || got.Message != tc.want.Message || !sameFields(got.Fields, tc.want.Fields) {
			t.Errorf("%s: %s\n got %+v\nwant %+v", tc.format, tc.line, got, tc.want)
		}
	}
}

func sameFields(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDetectMixed(t *testing.T) {
	lines := [][]byte{
		[]byte(`2026/11/23 10:00:00 starting`),
		[]byte(`not a log line at all`),
		[]byte(`2026/11/23 10:00:01 listening on :8080`),
	}
	if f := Detect(lines); f == nil || f.Name != "go" {
		t.Fatalf("detected %v", f)
	}
	if f := Detect([][]byte{[]byte("just text"), []byte("more text")}); f != nil {
		t.Fatalf("plain text detected as %s", f.Name)
	}
	// Malformed lines of a format are not taken for it.
	if f := Detect([][]byte{[]byte(strings.Repeat("{", 10))}); f != nil {
		t.Fatalf("garbage detected as %s", f.Name)
	}
}

func FuzzFormats(f *testing.F) {
	for _, fm := range Formats {
		for _, s := range fm.Samples {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, fm := range Formats {
			fm.Parse([]byte(line))
		}
		Detect([][]byte{[]byte(line)})
	})
}
