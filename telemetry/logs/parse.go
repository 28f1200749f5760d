package logs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Well-known field names, in order of preference.
var (
	timeKeys    = []string{"ts", "time", "timestamp", "@timestamp", "t", "__REALTIME_TIMESTAMP"}
	levelKeys   = []string{"level", "lvl", "severity", "loglevel", "PRIORITY"}
	messageKeys = []string{"msg", "message", "event", "MESSAGE"}
	serviceKeys = []string{"service", "app", "svc", "logger", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT"}
	traceKeys   = []string{"trace_id", "traceId", "request_id", "req_id", "transaction_id", "txn_id", "x-request-id"}
)

// ParseLine parses one log line: a JSON object or logfmt key=value pairs;
// anything else becomes an entry whose message is the whole line. It reports
// whether the line was structured.
func ParseLine(line []byte) (Entry, bool) {
	line = bytes.TrimRight(line, "\r\n")
	if !utf8.Valid(line) {
		line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
	}
	if len(line) > 0 && line[0] == '{' {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			fields := make(map[string]string, len(m))
			for k, v := range m {
				fields[k] = stringify(v)
			}
			return fromFields(fields), true
		}
	}
	if fields, ok := parseLogfmt(string(line)); ok {
		return fromFields(fields), true
	}
	return Entry{Message: string(line)}, false
}

func stringify(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// fromFields lifts the well-known fields out of a field map.
func fromFields(f map[string]string) Entry {
	var e Entry
	take := func(keys []string) string {
		for _, k := range keys {
			if v, ok := f[k]; ok {
				delete(f, k)
				return v
			}
		}
		return ""
	}
	e.Time = parseTime(take(timeKeys))
	e.Level = ParseLevel(take(levelKeys))
	e.Message = take(messageKeys)
	e.Service = take(serviceKeys)
	e.TraceID = take(traceKeys)
	if len(f) > 0 {
		e.Fields = f
	}
	return e
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		switch {
		case f > 1e17: // nanoseconds
			return time.Unix(0, int64(f)).UTC()
		case f > 1e14: // microseconds (journald's __REALTIME_TIMESTAMP)
			return time.UnixMicro(int64(f)).UTC()
		case f > 1e11: // milliseconds
			return time.UnixMilli(int64(f)).UTC()
		}
		sec, frac := int64(f), f-float64(int64(f))
		return time.Unix(sec, int64(frac*1e9)).UTC()
	}
	return time.Time{}
}

// parseLogfmt parses `key=value key2="quoted value"`; it fails unless the
// line is made only of such pairs.
func parseLogfmt(s string) (map[string]string, bool) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(s, " ") {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], " \"") {
			return nil, false
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := 1
			for end < len(s) && (s[end] != '"' || s[end-1] == '\\') {
				end++
			}
			if end >= len(s) {
				return nil, false
			}
			uq, err := strconv.Unquote(s[:end+1])
			if err != nil {
				uq = s[1:end]
			}
			val, s = uq, s[end+1:]
		} else {
			sp := strings.IndexByte(s, ' ')
			if sp < 0 {
				sp = len(s)
			}
			val, s = s[:sp], s[sp:]
		}
		out[key] = val
	}
	return out, len(out) > 0
}
