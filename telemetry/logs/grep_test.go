package logs

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// genLog writes n JSON lines like the platform's; every 97th says
// "payment declined", every 5th is an error.
func genLog(n int) []byte {
	var b bytes.Buffer
	levels := []string{"info", "info", "warn", "info", "error"}
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("request served path=/api/v1/match/%d", i%5000)
		if i%97 == 0 {
			msg = fmt.Sprintf("Payment declined txn=%08x", i)
		}
		ts := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
		fmt.Fprintf(&b, `{"ts":%q,"level":%q,"service":"matchmaking","msg":%q,"duration_ms":%d,"transaction_id":"%016x"}`+"\n",
			ts.Format(time.RFC3339Nano), levels[i%5], msg, i%700, i)
	}
	return b.Bytes()
}

func grepCount(t testing.TB, r io.Reader, filter string, opts GrepOptions) GrepStats {
	t.Helper()
	f, err := ParseFilter(filter)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Grep(r, f, opts, func([]byte, *Entry) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestGrepCounts(t *testing.T) {
	data := genLog(20000)
	prefix := data[:bytes.LastIndexByte(data[:len(data)/20], '\n')+1]
	tests := []struct {
		filter string
		want   uint64
	}{
		{"Payment declined", 206},
		{"payment declined", 206}, // smart case
		{"payment -declined", 0},
		{"level=error", 4000},
		{"level>=warn", 8000},
		{"declined level=error", 41}, // i%97 == 0 and i%5 == 4
		{"duration_ms>=690", 20000 / 700 * 10},
		{"/txn=0000(0|1)/", 84}, // multiples of 97 below 0x2000
		{"", 20000},
	}
	for _, tc := range tests {
		for name, r := range map[string]io.Reader{
			"whole":   bytes.NewReader(data),
			"onebyte": iotest.OneByteReader(bytes.NewReader(prefix)),
		} {
			want := tc.want
			if name == "onebyte" {
				want = uint64(bytes.Count(prefix, []byte("\n")))
				if tc.filter != "" {
					// Recount with the slow path on the same prefix.
					f, _ := ParseFilter(tc.filter)
					want = 0
					eachLine(prefix, func(l []byte) error {
						e, _ := ParseLine(l)
						if f.Match(&e) {
							want++
						}
						return nil
					})
				}
			}
			st := grepCount(t, r, tc.filter, GrepOptions{})
			if st.Matched != want {
				t.Errorf("%s %q: matched %d, want %d", name, tc.filter, st.Matched, want)
			}
		}
	}
}

func TestGrepEdges(t *testing.T) {
	// A final line without a newline, a line longer than the buffer, bad bytes.
	long := strings.Repeat("y", 5<<20)
	in := "msg=first\n" + long + " needle\nmsg=\"bad \xff\" needle\nmsg=last needle"
	st := grepCount(t, strings.NewReader(in), "needle", GrepOptions{})
	if st.Lines != 4 || st.LongLines != 1 || st.Matched != 2 {
		t.Errorf("stats = %+v, want 4 lines, 1 long, 2 matched (the cut long line loses its tail)", st)
	}
	var got []string
	f, _ := ParseFilter("needle")
	Grep(strings.NewReader(in), f, GrepOptions{Parse: true}, func(l []byte, e *Entry) error {
		got = append(got, e.Message)
		return nil
	})
	if len(got) != 2 || got[0] != "msg=\"bad \uFFFD\" needle" || got[1] != "msg=last needle" {
		t.Errorf("messages = %q", got)
	}
}

func TestGrepTimeRange(t *testing.T) {
	data := genLog(5000)
	since := time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC)
	until := since.Add(2 * time.Second)
	st := grepCount(t, bytes.NewReader(data), "", GrepOptions{Since: since, Until: until})
	if st.Matched != 2000 {
		t.Errorf("matched %d, want 2000", st.Matched)
	}
	st = grepCount(t, bytes.NewReader(data), "declined", GrepOptions{Since: since})
	if st.Matched != 41 { // multiples of 97 from 1000 to 5000
		t.Errorf("declined since: %d", st.Matched)
	}
}

// BenchmarkGrepSubstring scans a 64 MiB JSON log for a literal, like grep -F.
func BenchmarkGrepSubstring(b *testing.B) {
	data := genLog(300_000)
	for len(data) < 64<<20 {
		data = append(data, data...)
	}
	f, _ := ParseFilter("Payment declined")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Grep(bytes.NewReader(data), f, GrepOptions{}, func([]byte, *Entry) error { return nil })
	}
}

// BenchmarkGrepParseFilter parses every line and applies a field filter.
func BenchmarkGrepParseFilter(b *testing.B) {
	data := genLog(100_000)
	f, _ := ParseFilter("level>=warn duration_ms>500")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Grep(bytes.NewReader(data), f, GrepOptions{}, func([]byte, *Entry) error { return nil })
	}
}

// The in-place JSON scan and the full parse must agree on every filter.
func FuzzRecordAgreesWithEntry(f *testing.F) {
	for _, l := range []string{
		`{"ts":"2026-11-22T10:00:00Z","level":"error","service":"mm","msg":"Payment declined","duration_ms":512,"transaction_id":"ab"}`,
		`{"level":"WARN","message":"slow \"quoted\"","status":503,"ok":true,"x":null}`,
		`{"a":{"nested":1}}`, `{}`, `{"k":"v"`, `{"msg":"tab\there","svc":"api"}`,
	} {
		f.Add(l)
	}
	filters := []string{"payment", "level>=warn", "service=mm", "status>=500", "duration>500ms", "trace=ab", "msg=~quoted", "/decl/", "-api", "x=", "app=api", "message=slow"}
	var parsed []Filter
	for _, q := range filters {
		p, err := ParseFilter(q)
		if err != nil {
			f.Fatal(err)
		}
		parsed = append(parsed, p)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var rec record
		if !rec.scanJSON([]byte(line)) || !rec.valid() {
			return
		}
		e, structured := ParseLine([]byte(line))
		if !structured {
			return // encoding/json rejected what the scanner accepted: the slow path would treat it as text
		}
		for i, p := range parsed {
			if a, b := p.matchView(&rec), p.Match(&e); a != b {
				t.Fatalf("%q on %s: record %v, entry %v", filters[i], line, a, b)
			}
		}
	})
}

func TestGrepDetectsPatternFormats(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		status := 200
		if i%30 == 0 {
			status = 503
		}
		fmt.Fprintf(&b, `10.0.0.%d - - [23/Nov/2026:10:%02d:00 +0000] "GET /v1/matches HTTP/1.1" %d 157 "-" "curl/8"`+"\n", i%250, i%60, status)
	}
	if st := grepCount(t, strings.NewReader(b.String()), "status>=500", GrepOptions{}); st.Matched != 10 {
		t.Errorf("nginx status>=500: %d, want 10", st.Matched)
	}
	if st := grepCount(t, strings.NewReader(b.String()), "level=error path=/v1/matches", GrepOptions{}); st.Matched != 10 {
		t.Errorf("nginx level=error: %d, want 10", st.Matched)
	}
}
