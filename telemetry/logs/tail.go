package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxLineBytes is the longest line kept whole; longer lines are cut there
// and counted in Stats.LongLines.
const MaxLineBytes = 1 << 20

// TailStats counts what a Tailer saw besides ordinary lines.
type TailStats struct {
	Lines       uint64
	Unparsed    uint64 // lines that were neither JSON nor logfmt
	LongLines   uint64
	Rotations   uint64 // the path now names a new file
	Truncations uint64 // the file shrank under us (copytruncate)
}

// Tailer follows one file path like `tail -F`: it survives the file not
// existing yet, rotation by rename (it finishes the old file first) and
// truncation in place. Poll is not safe for concurrent use.
type Tailer struct {
	path    string
	fromEnd bool
	f       *os.File
	ino     uint64
	off     int64
	partial []byte
	long    bool // discarding the rest of an over-long line
	buf     []byte
	stats   TailStats
	// format is detected from the first lines; nil means JSON/logfmt/text.
	format   *Format
	detected bool
	inTrace  bool // inside a Python traceback, whose last line is unindented
	// KeepRaw fills Entry.Raw with the line as written (and its
	// continuation lines), for printing followed lines as they were.
	KeepRaw bool
}

// NewTailer returns a tailer for path. With fromEnd it starts at the end of
// the file as it is now (like tail -n 0); otherwise at its beginning.
func NewTailer(path string, fromEnd bool) *Tailer {
	return &Tailer{path: path, fromEnd: fromEnd, buf: make([]byte, 64<<10)}
}

// NewTailerFrom returns a tailer that continues from offset off of the
// already open file f, which was opened at path; later rotations of path are
// followed as usual. Handing over the open file (rather than a path and an
// offset) keeps a rotation between the first read and the first poll from
// applying the offset to the new file.
func NewTailerFrom(f *os.File, path string, off int64) (*Tailer, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tail %q: %w", path, err)
	}
	t := &Tailer{path: path, f: f, ino: inode(st), off: off, buf: make([]byte, 64<<10)}
	return t, nil
}

// Path is the followed path.
func (t *Tailer) Path() string { return t.path }

// Stats returns the counters so far.
func (t *Tailer) Stats() TailStats { return t.stats }

// Poll returns the entries of every complete line written since the last
// call. A missing file is not an error: it may appear later.
func (t *Tailer) Poll() ([]Entry, error) {
	var out []Entry
	for range 2 { // at most one rotation per poll: drain the old file, then the new
		if t.f == nil {
			if err := t.open(); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return out, nil
				}
				return out, err
			}
		}
		got, err := t.drain()
		out = append(out, got...)
		if err != nil {
			return out, err
		}
		st, err := os.Stat(t.path)
		if errors.Is(err, fs.ErrNotExist) {
			return out, nil // rotated away, new file not there yet
		}
		if err != nil {
			return out, fmt.Errorf("tail %q: %w", t.path, err)
		}
		if inode(st) != t.ino {
			// Rotated: lines may have reached the old file after the drain
			// above and before the rename; read them before letting go.
			got, err := t.drain()
			out = append(out, got...)
			if err != nil {
				return out, err
			}
			t.stats.Rotations++
			t.f.Close()
			t.f, t.partial, t.long = nil, nil, false
			continue
		}
		if st.Size() < t.off {
			t.stats.Truncations++
			t.off, t.partial, t.long = 0, nil, false
			got, err := t.drain()
			out = append(out, got...)
			return out, err
		}
		return out, nil
	}
	return out, nil
}

func (t *Tailer) open() error {
	f, err := os.Open(t.path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("tail %q: %w", t.path, err)
	}
	t.f, t.ino, t.off = f, inode(st), 0
	if t.fromEnd {
		t.off = st.Size()
		t.fromEnd = false
	}
	return nil
}

// drain reads from the offset to the current end of the open file.
func (t *Tailer) drain() ([]Entry, error) {
	var out []Entry
	for {
		n, err := t.f.ReadAt(t.buf, t.off)
		t.off += int64(n)
		out = t.split(t.buf[:n], out)
		if errors.Is(err, io.EOF) || n == 0 {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("tail %q: %w", t.path, err)
		}
	}
}

func (t *Tailer) split(b []byte, out []Entry) []Entry {
	if !t.detected {
		t.detect(b)
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.keep(b)
			return out
		}
		t.keep(b[:i])
		t.stats.Lines++
		if n := len(out); n > 0 && (isContinuation(t.partial) || t.endsTrace(t.partial)) {
			// A stack trace or wrapped message belongs to the line before.
			out[n-1].Message += "\n" + string(bytes.ToValidUTF8(t.partial, []byte("\uFFFD")))
			if t.KeepRaw {
				out[n-1].Raw += "\n" + string(t.partial)
			}
			t.inTrace = bytes.HasPrefix(t.partial, []byte("Traceback")) || (t.inTrace && isContinuation(t.partial))
		} else {
			t.inTrace = false
			e, ok := t.parse(t.partial)
			if !ok {
				t.stats.Unparsed++
			}
			e.Source = t.path
			if t.KeepRaw {
				e.Raw = string(t.partial)
			}
			out = append(out, e)
		}
		t.partial, t.long = t.partial[:0], false
		b = b[i+1:]
	}
	return out
}

// detect picks the format from the first complete lines the tailer sees.
func (t *Tailer) detect(b []byte) {
	var lines [][]byte
	for len(b) > 0 && len(lines) < 16 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, b[:i])
		b = b[i+1:]
	}
	if len(lines) == 0 {
		return
	}
	t.format, t.detected = Detect(lines), true
}

// parse parses one line with the detected format, falling back to the
// generic JSON/logfmt/text parse for lines that are not of it.
func (t *Tailer) parse(line []byte) (Entry, bool) {
	if t.format != nil {
		if e, ok := t.format.Parse(line); ok {
			return e, true
		}
	}
	return ParseLine(line)
}

// endsTrace reports whether line is the unindented last line of a Python
// traceback ("TimeoutError: …"): inside a traceback, a line that is not of
// the detected format.
func (t *Tailer) endsTrace(line []byte) bool {
	if !t.inTrace || t.format == nil {
		return false
	}
	_, ok := t.format.Parse(line)
	return !ok
}

// Format is the detected format of the file (nil until detected, or when
// no built-in format matched).
func (t *Tailer) Format() *Format { return t.format }

// isContinuation reports whether a line continues the previous entry: an
// indented line, a Python traceback or a Go goroutine dump.
func isContinuation(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	if line[0] == ' ' || line[0] == '\t' {
		return true
	}
	for _, p := range []string{"Traceback (most recent call last)", "goroutine ", "Caused by: "} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// keep buffers part of a line, cutting the line at MaxLineBytes: the rest up
// to its newline is discarded and the line counted as long.
func (t *Tailer) keep(b []byte) {
	if t.long {
		return
	}
	if room := MaxLineBytes - len(t.partial); len(b) > room {
		t.partial = append(t.partial, b[:room]...)
		t.long = true
		t.stats.LongLines++
		return
	}
	t.partial = append(t.partial, b...)
}

// Close releases the open file.
func (t *Tailer) Close() error {
	if t.f == nil {
		return nil
	}
	return t.f.Close()
}

func inode(st fs.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}
