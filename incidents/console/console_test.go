package console

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
)

func TestReceiverIsIdempotentAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pages.log")
	p := incidents.Page{Key: "INC-1/r0/s0/alice", Kind: "trigger", Target: "alice", StepName: "primary on-call",
		Subject: "[INC-1] matches down", RunbookURL: "https://runbooks/m", CreatedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := r.Notify(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	r, err = Open(path) // a restart redelivers the same page
	if err != nil {
		t.Fatal(err)
	}
	r.Notify(context.Background(), p)
	p2 := p
	p2.Key, p2.Target = "INC-1/r0/s1/bob", "bob"
	r.Notify(context.Background(), p2)
	r.Close()
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines:\n%s", len(lines), b)
	}
	want := "2026-11-23T10:00:00Z PAGE trigger  step 1 primary on-call    → alice    [INC-1] matches down runbook=https://runbooks/m key=INC-1/r0/s0/alice"
	if lines[0] != want {
		t.Errorf("line = %q\nwant   %q", lines[0], want)
	}
}
