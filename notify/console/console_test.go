package console

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
)

func records(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		out = append(out, r)
	}
	return out
}

func TestDeliversEachKeyOnceAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pages.log")
	os.WriteFile(path, []byte("2026-11-01T00:00:00Z PAGE trigger step 1 an old plain line key=INC-1/r0/s0/alice\n"), 0o600)
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	// A subject that contains " key=" must not confuse the receiver.
	page := notify.Message{Key: "abc/INC-1/p1/alice", Kind: notify.KindPage, CreatedAt: t0,
		Page: &incidents.Page{Kind: "trigger", Target: "alice", StepName: "primary", Subject: "[INC-1] weird key=abc/INC-1/p2/bob", RunbookURL: "https://rb"}}
	note := notify.Message{Key: "abc/n/1", Kind: notify.KindNotification, CreatedAt: t0, Notification: &notify.Notification{
		Receiver: "console", GroupKey: `{}:{service="api"}`, At: t0,
		Alerts: []alerts.Alert{{Labels: labels.FromStrings("alertname", "Down"), StartsAt: t0}}}}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, m := range []notify.Message{page, page, note} {
		if err := r.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	r, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	second := page
	second.Key = "abc/INC-1/p2/bob"
	for _, m := range []notify.Message{page, note, second} {
		if err := r.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	got := records(t, path)
	if len(got) != 3 {
		t.Fatalf("records %+v, want the page, the notification and the second page once each", got)
	}
	if got[0].Target != "alice" || got[0].Step != 1 || got[0].RunbookURL != "https://rb" || got[1].Status != "firing" || got[1].Alerts != 1 || got[2].Key != second.Key {
		t.Errorf("records: %+v", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
}

// Two processes on one state directory (a leader and the standby that
// takes over) share the file: a key one delivered, the other does not
// deliver again, though it opened the file before.
func TestTwoReceiversOnOneFileDeliverOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pages.log")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m := notify.Message{Key: "id/INC-1/p1/ana", Kind: notify.KindPage, Page: &incidents.Page{Target: "ana", Subject: "[INC-1] down"}}
	if err := a.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := b.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	other := m
	other.Key = "id/INC-1/p2/ben"
	if err := b.Deliver(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if err := a.Deliver(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if n := strings.Count(string(raw), "\n"); n != 2 {
		t.Errorf("%d records, want 2:\n%s", n, raw)
	}
}
