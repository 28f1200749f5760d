// Package console is the receiver that needs no credentials: each page is
// appended as one line to a file (and so shown by the TUI's pages pane).
// Delivery is idempotent by page key, even across restarts.
package console

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oncallhq/oncall/incidents"
)

// Receiver appends pages to a file.
type Receiver struct {
	mu   sync.Mutex
	f    *os.File
	sent map[string]bool
}

// Open opens (creating) the file at path and reads which page keys it
// already holds, so a page redelivered after a crash is not written twice.
func Open(path string) (*Receiver, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("console receiver: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("console receiver: %w", err)
	}
	r := &Receiver{f: f, sent: map[string]bool{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if _, key, ok := strings.Cut(sc.Text(), " key="); ok {
			r.sent[key] = true
		}
	}
	return r, nil
}

// Notify appends the page as one line and syncs the file.
func (r *Receiver) Notify(_ context.Context, p incidents.Page) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent[p.Key] {
		return nil
	}
	if _, err := r.f.WriteString(Format(p) + "\n"); err != nil {
		return fmt.Errorf("console receiver: %w", err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("console receiver: %w", err)
	}
	r.sent[p.Key] = true
	return nil
}

// Format renders a page as one line.
func Format(p incidents.Page) string {
	line := fmt.Sprintf("%s PAGE %-8s step %d %-18s → %-8s %s", p.CreatedAt.UTC().Format(time.RFC3339), p.Kind, p.Step+1, p.StepName, p.Target, p.Subject)
	if p.RunbookURL != "" {
		line += " runbook=" + p.RunbookURL
	}
	return line + " key=" + p.Key
}

// Close closes the file.
func (r *Receiver) Close() error { return r.f.Close() }
