package logs

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Format is one log line format: how to parse a line of it, and sample
// lines with what they must parse to (the samples are the format's tests).
type Format struct {
	Name  string
	parse func(line []byte, e *Entry) bool
	// Samples are lines of the format; each must parse.
	Samples []string
}

// Parse parses one line of the format; it reports false when the line is not
// of it.
func (f *Format) Parse(line []byte) (Entry, bool) {
	var e Entry
	if !f.parse(line, &e) {
		return Entry{}, false
	}
	return e, true
}

// Formats are the built-in formats, in detection order.
var Formats = []*Format{
	{Name: "json", parse: parseJSONInto, Samples: []string{
		`{"ts":"2026-11-23T10:00:00.123Z","level":"error","service":"matchmaking","msg":"match candidates query timed out","trace_id":"4f2a","status":503}`,
		// journalctl -o json
		`{"__REALTIME_TIMESTAMP":"1795428000123456","PRIORITY":"3","SYSLOG_IDENTIFIER":"matchmaking","_PID":"4242","MESSAGE":"upstream profile-db timed out","_HOSTNAME":"web-1"}`,
	}},
	{Name: "logfmt", parse: parseLogfmtInto, Samples: []string{
		`time=2026-11-23T10:00:00Z level=warn msg="slow request" service=api duration=1.2s request_id=r-81`,
	}},
	{Name: "nginx", parse: parseNginx, Samples: []string{
		`203.0.113.7 - - [23/Nov/2026:10:00:00 +0000] "GET /v1/matches?limit=20 HTTP/1.1" 502 157 "-" "Mozilla/5.0 (X11; Linux x86_64)"`,
		`10.0.0.2 - alice [23/Nov/2026:10:00:01 +0100] "POST /v1/swipe HTTP/2.0" 201 12 "https://app.example/" "okhttp/4.12"`,
	}},
	{Name: "syslog", parse: parseSyslog, Samples: []string{
		`<11>Nov 23 10:00:00 web-1 matchmaking[4242]: upstream profile-db timed out`,
		`<165>1 2026-11-23T10:00:00.003Z web-1 push-gateway 981 ID47 - delivery failed: connection reset`,
		`Nov 23 10:00:02 web-1 kernel: Out of memory: Killed process 4242 (matchmaking)`,
	}},
	{Name: "go", parse: parseGoLog, Samples: []string{
		`2026/11/23 10:00:00 http: TLS handshake error from 10.0.0.9:51234: EOF`,
		`2026/11/23 10:00:00.123456 server.go:88: ERROR matcher pool exhausted`,
	}},
	{Name: "python", parse: parsePython, Samples: []string{
		`ERROR:matchmaking.worker:candidate query failed`,
		`2026-11-23 10:00:00,123 - matchmaking.api - WARNING - retrying request`,
	}},
}

func parseJSONInto(line []byte, e *Entry) bool {
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	p, ok := ParseLine(line)
	*e = p
	return ok
}

func parseLogfmtInto(line []byte, e *Entry) bool {
	if len(line) > 0 && line[0] == '{' {
		return false
	}
	p, ok := ParseLine(line)
	*e = p
	return ok
}

var nginxRE = regexp.MustCompile(`^(\S+) \S+ (\S+) \[([^\]]+)\] "([A-Z]+) (\S+) ([^"]*)" (\d{3}) (\d+|-)(?: "([^"]*)" "([^"]*)")?`)

func parseNginx(line []byte, e *Entry) bool {
	m := nginxRE.FindSubmatch(line)
	if m == nil {
		return false
	}
	t, _ := time.Parse("02/Jan/2006:15:04:05 -0700", string(m[3]))
	status, _ := strconv.Atoi(string(m[7]))
	*e = Entry{Time: t, Message: string(m[4]) + " " + string(m[5]), Level: LevelInfo, Fields: map[string]string{
		"remote_addr": string(m[1]), "method": string(m[4]), "path": string(m[5]), "protocol": string(m[6]),
		"status": string(m[7]), "bytes": string(m[8]),
	}}
	if u := string(m[2]); u != "-" {
		e.Fields["user"] = u
	}
	if len(m[9]) > 0 && string(m[9]) != "-" {
		e.Fields["referer"] = string(m[9])
	}
	if len(m[10]) > 0 {
		e.Fields["user_agent"] = string(m[10])
	}
	switch {
	case status >= 500:
		e.Level = LevelError
	case status >= 400:
		e.Level = LevelWarn
	}
	return true
}

var (
	syslog3164RE = regexp.MustCompile(`^(?:<(\d{1,3})>)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^:\[\s]+)(?:\[(\d+)\])?: (.*)$`)
	syslog5424RE = regexp.MustCompile(`^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|\[.*?\]) ?(.*)$`)
	// syslogYear is the year given to RFC 3164 timestamps, which have none.
	syslogYear = time.Now().Year()
)

func syslogLevel(pri []byte) Level {
	if len(pri) == 0 {
		return LevelInfo
	}
	n, _ := strconv.Atoi(string(pri))
	switch sev := n % 8; {
	case sev <= 2:
		return LevelFatal
	case sev == 3:
		return LevelError
	case sev == 4:
		return LevelWarn
	case sev == 7:
		return LevelDebug
	default:
		return LevelInfo
	}
}

func parseSyslog(line []byte, e *Entry) bool {
	if m := syslog5424RE.FindSubmatch(line); m != nil {
		t, _ := time.Parse(time.RFC3339Nano, string(m[2]))
		*e = Entry{Time: t, Level: syslogLevel(m[1]), Service: string(m[4]), Message: string(m[7]),
			Fields: map[string]string{"host": string(m[3]), "pid": string(m[5]), "msgid": string(m[6])}}
		return true
	}
	m := syslog3164RE.FindSubmatch(line)
	if m == nil {
		return false
	}
	t, err := time.Parse("Jan _2 15:04:05", string(m[2]))
	if err == nil {
		t = t.AddDate(syslogYear-t.Year(), 0, 0)
	}
	*e = Entry{Time: t, Level: syslogLevel(m[1]), Service: string(m[4]), Message: string(m[6]), Fields: map[string]string{"host": string(m[3])}}
	if len(m[5]) > 0 {
		e.Fields["pid"] = string(m[5])
	}
	return true
}

var goLogRE = regexp.MustCompile(`^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (?:(\S+\.go:\d+): )?(.*)$`)

func parseGoLog(line []byte, e *Entry) bool {
	m := goLogRE.FindSubmatch(line)
	if m == nil {
		return false
	}
	t, _ := time.ParseInLocation("2006/01/02 15:04:05.999999", string(m[1]), time.Local)
	msg := string(m[3])
	*e = Entry{Time: t, Message: msg, Level: levelPrefix(&msg)}
	e.Message = msg
	if len(m[2]) > 0 {
		e.Fields = map[string]string{"caller": string(m[2])}
	}
	return true
}

// levelPrefix takes a leading "ERROR " / "[warn] " style level off msg.
func levelPrefix(msg *string) Level {
	word, rest, ok := strings.Cut(*msg, " ")
	if !ok {
		return LevelUnknown
	}
	w := strings.Trim(word, "[]:")
	if l := ParseLevel(w); l != LevelUnknown && len(w) >= 4 {
		*msg = rest
		return l
	}
	return LevelUnknown
}

var (
	pyBasicRE   = regexp.MustCompile(`^(CRITICAL|ERROR|WARNING|INFO|DEBUG):([^:]*):(.*)$`)
	pyAsctimeRE = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - (\S+) - (CRITICAL|ERROR|WARNING|INFO|DEBUG) - (.*)$`)
)

func parsePython(line []byte, e *Entry) bool {
	if m := pyBasicRE.FindSubmatch(line); m != nil {
		*e = Entry{Level: ParseLevel(string(m[1])), Service: string(m[2]), Message: string(m[3])}
		return true
	}
	m := pyAsctimeRE.FindSubmatch(line)
	if m == nil {
		return false
	}
	t, _ := time.ParseInLocation("2006-01-02 15:04:05,000", string(m[1]), time.Local)
	*e = Entry{Time: t, Service: string(m[2]), Level: ParseLevel(string(m[3])), Message: string(m[4])}
	return true
}

// Detect picks the format that parses most of the given first lines of a
// source (the earlier format wins a tie); nil when none parses any.
func Detect(lines [][]byte) *Format {
	var best *Format
	bestN := 0
	for _, f := range Formats {
		n := 0
		var e Entry
		for _, l := range lines {
			if len(l) > 0 && f.parse(l, &e) {
				n++
			}
		}
		if n > bestN {
			best, bestN = f, n
		}
	}
	return best
}
