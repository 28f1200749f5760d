package logs

import (
	"strings"
	"testing"
)

func TestFilter(t *testing.T) {
	entries := map[string]Entry{
		"declined": {Level: LevelError, Service: "payments", Message: "Payment declined by issuer", TraceID: "abc123", Fields: map[string]string{"status": "502", "duration_ms": "1500", "user_id": "u0042"}},
		"served":   {Level: LevelInfo, Service: "api", Message: "request served", TraceID: "def456", Fields: map[string]string{"status": "200", "duration": "35ms"}},
		"slow":     {Level: LevelWarn, Service: "api", Message: "slow request", Fields: map[string]string{"status": "200", "duration": "2.5s"}},
		"health":   {Level: LevelDebug, Service: "api", Message: "healthcheck ok"},
	}
	tests := []struct {
		filter string
		want   string // matching entry names, sorted, space-separated
	}{
		{"", "declined health served slow"},
		{"payment declined", "declined"},
		{"Payment", "declined"},
		{"PAYMENT", ""}, // upper case in the query: case-sensitive
		{`"declined by"`, "declined"},
		{"/serv(ed|ice)/", "served"},
		{"level>=warn", "declined slow"},
		{"level<info", "health"},
		{"level=error", "declined"},
		{"service=api", "health served slow"},
		{"service!=api", "declined"},
		{"status>=500", "declined"},
		{"status<300 service=api", "served slow"},
		{"duration>1s", "declined slow"},
		{"duration_ms>=1500", "declined"},
		{"duration<100ms", "served"},
		{"trace=abc123", "declined"},
		{"user_id=~^u00", "declined"},
		{"user_id!~^u00", ""},
		{"-healthcheck service=api", "served slow"},
		{`-"request"`, "declined health"},
		{"-/ok$/", "declined served slow"},
		{"abc123", "declined"},
	}
	for _, tc := range tests {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Fatalf("%q: %v", tc.filter, err)
		}
		var got []string
		for _, name := range []string{"declined", "health", "served", "slow"} {
			e := entries[name]
			if f.Match(&e) {
				got = append(got, name)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q matched %v, want %q", tc.filter, got, tc.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"level>=loud", `column 1: unknown level "loud"`},
		{"ok status=>5", `column 4: unknown operator in "status=>5"`},
		{`"open`, "column 1: unterminated quote"},
		{"x /a(/", `column 3: bad regular expression "/a(/"`},
		{"/open", "column 1: unterminated /regex/"},
		{"duration>soon", `"soon" is neither a number nor a duration`},
		{"level=~warn", `operator "=~" does not apply to levels`},
	}
	for _, tc := range tests {
		_, err := ParseFilter(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestMatchRawAgreesWithMatch(t *testing.T) {
	lines := []string{
		`{"level":"error","msg":"Payment declined","trace_id":"x"}`,
		`{"level":"info","msg":"request served"}`,
		`level=warn msg="PAYMENT retry"`,
	}
	for _, q := range []string{"payment", "Payment", "declined", "-served", "payment -retry", "zzz"} {
		f, _ := ParseFilter(q)
		for _, l := range lines {
			raw, decided := f.MatchRaw([]byte(l))
			if !decided {
				t.Fatalf("%q should be decided on the raw line", q)
			}
			e, _ := ParseLine([]byte(l))
			if raw != f.Match(&e) {
				t.Errorf("%q on %s: raw %v, parsed %v", q, l, raw, !raw)
			}
		}
	}
	f, _ := ParseFilter("level>=warn")
	if _, decided := f.MatchRaw([]byte("x")); decided {
		t.Error("a field predicate cannot be decided on the raw line")
	}
}

func TestIndexFold(t *testing.T) {
	for _, tc := range []struct {
		hay, needle string
		want        bool
	}{
		{"Payment DECLINED", "declined", true},
		{"pppppppP", "pp", true},
		{"ppppppp", "pq", false},
		{"", "a", false},
		{"abc", "", true},
		{"x-Ray", "-ray", true},
		{"PAyment", "payment", true},
	} {
		if got := indexFold([]byte(tc.hay), []byte(tc.needle)) >= 0; got != tc.want {
			t.Errorf("indexFold(%q, %q) found = %v", tc.hay, tc.needle, got)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"level>=warn service=api", `"a b" -/x+/`, "duration>1s status<500", "a=~(", `-"`, "k!~v"} {
		f.Add(s)
	}
	e := Entry{Level: LevelWarn, Service: "api", Message: "m", Fields: map[string]string{"status": "500", "duration": "2s"}}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "filter: column ") {
				t.Fatalf("error without a column: %v", err)
			}
			return
		}
		flt.Match(&e)
		flt.MatchRaw([]byte(`{"msg":"m"}`))
	})
}

// A field the line really has wins over an alias of the same name, on the
// parsed path and the raw fast path alike.
func TestRealFieldsWinOverAliases(t *testing.T) {
	for _, tc := range []struct {
		line, filter string
		want         bool
	}{
		{`{"msg":"x","trace":"t-1"}`, "trace=t-1", true},
		{`{"msg":"x","trace":"t-1","trace_id":"id-2"}`, "trace=t-1", true},
		{`{"msg":"x","trace":"t-1","trace_id":"id-2"}`, "trace_id=id-2", true},
		{`{"msg":"x","trace_id":"id-2"}`, "trace=id-2", true},
		{`{"msg":"x","app":"web","service":"api"}`, "app=web", true},
		{`{"msg":"x","app":"web","service":"api"}`, "service=api", true},
		{`trace=t-9 msg=y`, "trace=t-9", true},
		{`{"msg":"x","message":"y"}`, "message=y", true},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := ParseLine([]byte(tc.line))
		if got := f.Match(&e); got != tc.want {
			t.Errorf("%s on %s: parsed %v", tc.filter, tc.line, got)
		}
		var r record
		if r.scanJSON([]byte(tc.line)) {
			if got := f.matchView(&r); got != tc.want {
				t.Errorf("%s on %s: raw record %v", tc.filter, tc.line, got)
			}
		}
	}
}
