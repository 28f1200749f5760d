package logs

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// GrepOptions narrow a Grep beyond the filter.
type GrepOptions struct {
	Since, Until time.Time // zero: unbounded
	// Parse makes every emitted line come with its parsed entry.
	Parse bool
}

// GrepStats counts what a Grep read.
type GrepStats struct {
	Bytes, Lines, Matched, LongLines uint64
}

// Grep streams r line by line and calls emit for each line the filter (and
// time range) selects. The line slice is valid only during the call; the
// entry is nil unless it had to be parsed or opts.Parse is set. Memory stays
// bounded by the read buffer whatever the size of r.
//
// A filter made of substring terms is decided on raw bytes: the first term is
// searched across the whole buffer, so lines without it are never looked at
// one by one — the way grep -F works.
func Grep(r io.Reader, f Filter, opts GrepOptions, emit func(line []byte, e *Entry) error) (GrepStats, error) {
	var st GrepStats
	buf := make([]byte, 4<<20)
	start, end := 0, 0
	timed := !opts.Since.IsZero() || !opts.Until.IsZero()
	raw := f.text && !timed && len(f.terms) > 0 && !f.terms[0].neg
	var long []byte // the kept head of a line longer than the buffer
	var rec record
	var format *Format // detected from the first block
	detected := false
	parse := func(line []byte) Entry {
		if format != nil {
			if e, ok := format.Parse(line); ok {
				return e
			}
		}
		e, _ := ParseLine(line)
		return e
	}
	handle := func(line []byte) error {
		st.Lines++
		var e *Entry
		if ok, decided := f.MatchRaw(line); decided && !timed {
			if !ok {
				return nil
			}
		} else if rec.scanJSON(line) && rec.valid() {
			// Fast path: filter the flat JSON in place, parse only matches.
			if !f.matchView(&rec) {
				return nil
			}
			if timed {
				ts, _ := rec.lookup(timeKeys...)
				if !inRange(parseTime(ts), opts) {
					return nil
				}
			}
		} else {
			parsed := parse(line)
			e = &parsed
			if !f.Match(e) || (timed && !inRange(e.Time, opts)) {
				return nil
			}
		}
		if e == nil && opts.Parse {
			parsed := parse(line)
			e = &parsed
		}
		st.Matched++
		return emit(line, e)
	}
	for {
		n, err := r.Read(buf[end:])
		end += n
		st.Bytes += uint64(n)
		chunk := buf[start:end]
		last := bytes.LastIndexByte(chunk, '\n')
		if err == io.EOF && last < len(chunk)-1 && len(chunk) > 0 {
			chunk = append(chunk, '\n') // a final line without newline
			last = len(chunk) - 1
		}
		if last >= 0 {
			complete := chunk[:last+1]
			if !detected {
				var lines [][]byte
				eachLine(complete, func(l []byte) error {
					if len(lines) < 16 {
						lines = append(lines, l)
					}
					return nil
				})
				format, detected = Detect(lines), true
			}
			if long != nil {
				i := bytes.IndexByte(complete, '\n')
				if err := handle(long); err != nil {
					return st, err
				}
				long = nil
				complete = complete[i+1:]
			}
			var herr error
			if raw {
				herr = scanRaw(complete, f, &st, emit, opts.Parse, parse)
			} else {
				herr = eachLine(complete, handle)
			}
			if herr != nil {
				return st, herr
			}
			start += last + 1
		}
		if err == io.EOF {
			return st, nil
		}
		if err != nil && !errors.Is(err, io.ErrNoProgress) {
			return st, err
		}
		// Move the partial line to the front; a line longer than the
		// buffer is cut at MaxLineBytes and the rest skipped.
		rest := copy(buf, buf[start:end])
		start, end = 0, rest
		if end == len(buf) {
			if long == nil {
				long = append([]byte(nil), buf[:min(end, MaxLineBytes)]...)
				st.LongLines++
			}
			end = 0
		}
	}
}

func eachLine(b []byte, f func([]byte) error) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if err := f(b[:i]); err != nil {
			return err
		}
		b = b[i+1:]
	}
	return nil
}

// scanRaw finds the first term across the whole block and checks only the
// lines that contain it.
func scanRaw(b []byte, f Filter, st *GrepStats, emit func([]byte, *Entry) error, wantEntry bool, parse func([]byte) Entry) error {
	st.Lines += uint64(bytes.Count(b, []byte{'\n'}))
	first := f.terms[0]
	for len(b) > 0 {
		i := first.index(b)
		if i < 0 {
			return nil
		}
		ls := bytes.LastIndexByte(b[:i], '\n') + 1
		le := i + bytes.IndexByte(b[i:], '\n')
		line := b[ls:le]
		if ok, _ := f.MatchRaw(line); ok {
			st.Matched++
			var e *Entry
			if wantEntry {
				parsed := parse(line)
				e = &parsed
			}
			if err := emit(line, e); err != nil {
				return err
			}
		}
		b = b[le+1:]
	}
	return nil
}

func inRange(t time.Time, o GrepOptions) bool {
	if t.IsZero() {
		return false
	}
	return (o.Since.IsZero() || !t.Before(o.Since)) && (o.Until.IsZero() || t.Before(o.Until))
}
