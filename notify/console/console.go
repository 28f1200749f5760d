// Package console is the receiver that needs no credentials: every page
// and notification is appended to a file as one JSON line (the console
// shows them). Delivery is exactly once per message key, across restarts
// and across processes sharing the file (a standby that took over): the
// keys in the file are read when it opens, and under a lock on the file
// what others appended since is read before each write.
package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oncallhq/oncall/notify"
)

// Record is one line of the file.
type Record struct {
	Key  string      `json:"key"`
	At   time.Time   `json:"at"`
	Kind notify.Kind `json:"kind"`
	// Text is the line for humans (tail -f).
	Text string `json:"text"`
	// Pages: who was paged, at which step, about what.
	Target     string `json:"target,omitempty"`
	Step       int    `json:"step,omitempty"`
	StepName   string `json:"stepName,omitempty"`
	Subject    string `json:"subject,omitempty"`
	RunbookURL string `json:"runbookURL,omitempty"`
	// Notifications: which group, its status and size.
	Receiver string `json:"receiver,omitempty"`
	GroupKey string `json:"groupKey,omitempty"`
	Status   string `json:"status,omitempty"`
	Alerts   int    `json:"alerts,omitempty"`
}

// Receiver appends records to a file.
type Receiver struct {
	mu   sync.Mutex
	f    *os.File
	sent map[string]bool
	// read is how far the file has been read for keys.
	read int64
}

// Open opens (creating, 0600) the file at path and reads the keys it holds.
// Lines that are not records (an older plain-text format) are skipped.
func Open(path string) (*Receiver, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("console receiver: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("console receiver: %w", err)
	}
	r := &Receiver{f: f, sent: map[string]bool{}}
	if err := r.catchUp(); err != nil {
		f.Close()
		return nil, fmt.Errorf("console receiver: read %s: %w", path, err)
	}
	return r, nil
}

// catchUp reads the keys of the records appended since the last read.
func (r *Receiver) catchUp() error {
	if _, err := r.f.Seek(r.read, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReaderSize(r.f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			break // a partial last line is read again next time
		}
		if err != nil {
			return err
		}
		r.read += int64(len(line))
		var rec struct {
			Key string `json:"key"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Key != "" {
			r.sent[rec.Key] = true
		}
	}
	return nil
}

// Deliver appends the message as one record and syncs the file, unless a
// record with its key is already there.
func (r *Receiver) Deliver(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent[m.Key] {
		return nil
	}
	// Another process on the same state (the leader before a take-over)
	// may have written it: look under the lock before writing.
	if err := syscall.Flock(int(r.f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("console receiver: lock: %w", err)
	}
	defer syscall.Flock(int(r.f.Fd()), syscall.LOCK_UN)
	if err := r.catchUp(); err != nil {
		return fmt.Errorf("console receiver: %w", err)
	}
	if r.sent[m.Key] {
		return nil
	}
	b, err := json.Marshal(NewRecord(m))
	if err != nil {
		return fmt.Errorf("console receiver: %w", err)
	}
	line := append(b, '\n')
	if _, err := r.f.Write(line); err != nil {
		return fmt.Errorf("console receiver: %w", err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("console receiver: %w", err)
	}
	r.read += int64(len(line))
	r.sent[m.Key] = true
	return nil
}

// NewRecord describes a message as a record.
func NewRecord(m notify.Message) Record {
	rec := Record{Key: m.Key, At: m.CreatedAt.UTC(), Kind: m.Kind}
	switch {
	case m.Page != nil:
		p := m.Page
		rec.Target, rec.Step, rec.StepName, rec.Subject, rec.RunbookURL = p.Target, p.Step+1, p.StepName, p.Subject, p.RunbookURL
		rec.Text = fmt.Sprintf("PAGE %s step %d %s → %s: %s", p.Kind, p.Step+1, p.StepName, p.Target, p.Subject)
		if p.RunbookURL != "" {
			rec.Text += " (runbook " + p.RunbookURL + ")"
		}
	case m.Notification != nil:
		n := m.Notification
		rec.Receiver, rec.GroupKey, rec.Status, rec.Alerts = n.Receiver, n.GroupKey, n.Status(), len(n.Alerts)
		var names []string
		for i := range n.Alerts {
			names = append(names, n.Alerts[i].Name())
		}
		rec.Text = fmt.Sprintf("%s %s %s: %d alerts (%s)", strings.ToUpper(rec.Status), n.Receiver, n.GroupKey, len(n.Alerts), strings.Join(names, ", "))
	}
	return rec
}

// Close closes the file.
func (r *Receiver) Close() error { return r.f.Close() }
