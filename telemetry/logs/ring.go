package logs

import "sync"

// Ring is a bounded buffer of the most recent entries. Adding to a full ring
// evicts the oldest entry and counts it as dropped. It is safe for concurrent
// use. Its memory grows with what it holds, up to its capacity.
type Ring struct {
	mu      sync.Mutex
	buf     []Entry // grows to capacity, then wraps
	max     int     // the capacity
	start   int     // index of the oldest entry
	n       int
	nextSeq uint64
	dropped uint64
}

// DefaultRingSize is the default capacity of a Ring.
const DefaultRingSize = 100_000

// NewRing returns a ring holding at most capacity entries (DefaultRingSize
// when capacity <= 0).
func NewRing(capacity int) *Ring {
	if capacity <= 0 {
		capacity = DefaultRingSize
	}
	return &Ring{max: capacity, nextSeq: 1}
}

// Add appends entries, assigning their sequence numbers.
func (r *Ring) Add(es ...Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range es {
		e.Seq = r.nextSeq
		r.nextSeq++
		if len(r.buf) < r.max { // still growing: start is 0
			if len(r.buf) == cap(r.buf) {
				r.buf = append(make([]Entry, 0, min(r.max, max(1024, 2*cap(r.buf)))), r.buf...)
			}
			r.buf = append(r.buf, e)
			r.n++
			continue
		}
		r.buf[r.start] = e
		r.start = (r.start + 1) % len(r.buf)
		r.dropped++
	}
}

// After returns up to limit entries with a sequence number above seq, oldest
// first. Entries already evicted are skipped; Dropped says how many.
func (r *Ring) After(seq uint64, limit int) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 || limit <= 0 {
		return nil
	}
	oldest := r.buf[r.start].Seq
	skip := 0
	if seq >= oldest {
		skip = int(seq - oldest + 1)
	}
	if skip >= r.n {
		return nil
	}
	count := min(limit, r.n-skip)
	out := make([]Entry, count)
	for i := range count {
		out[i] = r.buf[(r.start+skip+i)%len(r.buf)]
	}
	return out
}

// Last returns the newest n entries, oldest first.
func (r *Ring) Last(n int) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	n = min(n, r.n)
	out := make([]Entry, n)
	for i := range n {
		out[i] = r.buf[(r.start+r.n-n+i)%len(r.buf)]
	}
	return out
}

// Len is the number of entries held.
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Dropped is how many entries were evicted to make room.
func (r *Ring) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Tail returns the newest entries with a sequence number above seq, at most
// limit of them, oldest first. A reader that falls behind skips ahead instead
// of lagging; the skipped sequence numbers tell it how many it missed.
func (r *Ring) Tail(seq uint64, limit int) []Entry {
	r.mu.Lock()
	newest := r.nextSeq - 1
	r.mu.Unlock()
	if newest <= seq || limit <= 0 {
		return nil
	}
	from := seq
	if newest-seq > uint64(limit) {
		from = newest - uint64(limit)
	}
	return r.After(from, limit)
}
