// Package logs reads platform logs: sources (files with rotation, stdin, Loki),
// parsers (JSON, logfmt, patterns), filters and a bounded ring buffer of entries.
package logs

import "time"

// Level is a normalised log severity; higher is more severe.
type Level int

// Levels, in increasing severity. LevelUnknown sorts below everything.
const (
	LevelUnknown Level = iota
	LevelTrace
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelFatal
)

var levelNames = [...]string{"unknown", "trace", "debug", "info", "warn", "error", "fatal"}

// String returns the lower-case name of the level.
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "unknown"
	}
	return levelNames[l]
}

// MarshalText encodes the level by name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText decodes a level name; unknown names decode to LevelUnknown.
func (l *Level) UnmarshalText(b []byte) error {
	*l = ParseLevel(string(b))
	return nil
}

// ParseLevel maps the usual spellings (WARN, warning, ERR, crit…) to a Level.
func ParseLevel(s string) Level {
	switch s { // the common spellings, without allocating
	case "info":
		return LevelInfo
	case "warn":
		return LevelWarn
	case "error":
		return LevelError
	case "debug":
		return LevelDebug
	}
	switch lower(s) {
	case "0", "1", "2": // syslog and journald PRIORITY: emerg, alert, crit
		return LevelFatal
	case "3":
		return LevelError
	case "4":
		return LevelWarn
	case "5", "6":
		return LevelInfo
	case "7":
		return LevelDebug
	case "trace", "trc":
		return LevelTrace
	case "debug", "dbg", "d":
		return LevelDebug
	case "info", "inf", "information", "notice", "i":
		return LevelInfo
	case "warn", "warning", "wrn", "w":
		return LevelWarn
	case "error", "err", "e", "eror":
		return LevelError
	case "fatal", "crit", "critical", "panic", "emerg", "alert", "f":
		return LevelFatal
	}
	return LevelUnknown
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Entry is one parsed log line.
type Entry struct {
	// Seq numbers entries in arrival order within one process; it never repeats.
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Level   Level             `json:"level"`
	Service string            `json:"service,omitempty"`
	Message string            `json:"message"`
	TraceID string            `json:"trace_id,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
	// Source names where the line came from (a file path, "stdin", a Loki stream).
	Source string `json:"source,omitempty"`
	// Raw is the line as written, when the reader was asked to keep it
	// (Tailer.KeepRaw).
	Raw string `json:"-"`
}
