package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
)

type lookup map[string]Message

func (l lookup) Message(_ context.Context, key string) (Message, error) {
	m, ok := l[key]
	if !ok {
		return Message{}, ErrNotFound
	}
	return m, nil
}

type keys []string

func (r *keys) Deliver(_ context.Context, m Message) error {
	*r = append(*r, m.Key)
	return nil
}

// An acknowledgement waits while its page is pending, unless its own
// service took the page already; a page is never held back.
func TestAfterPage(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	pg := incidents.Page{Key: "INC-1/p1/ana", Kind: incidents.PageTrigger, Target: "ana"}
	page := Pages([]incidents.Page{pg})[0]
	page.Key = "s1/" + page.Key
	ack := Pages([]incidents.Page{{Key: pg.Key + "/acknowledge", Of: pg.Key, Kind: incidents.PageAcknowledge, Target: "ana"}})[0]
	ack.Key = "s1/" + ack.Key
	if PageOf(ack) != page.Key || PageOf(page) != "" {
		t.Fatalf("PageOf: %q %q", PageOf(ack), PageOf(page))
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		page      func(m *Message)
		delivered bool
		err       string
	}{
		{"page pending", func(m *Message) {}, false, "waiting for the page s1/INC-1/p1/ana to be delivered first"},
		{"page sent", func(m *Message) { m.SentAt = now }, true, ""},
		{"page refused (it may have reached this service)", func(m *Message) { m.Failed = true }, true, ""},
		{"page superseded", func(m *Message) { m.Superseded = true }, true, ""},
	} {
		var got keys
		p := page
		tc.page(&p)
		err := AfterPage(lookup{p.Key: p}, &got, nil).Deliver(ctx, ack)
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) || tc.err == "" && err != nil {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
		if (len(got) == 1) != tc.delivered {
			t.Errorf("%s: delivered %v", tc.name, got)
		}
	}
	var got keys
	if err := AfterPage(lookup{}, &got, nil).Deliver(ctx, page); err != nil || len(got) != 1 {
		t.Errorf("a page: %v %v", err, got)
	}
	if err := AfterPage(lookup{}, &got, nil).Deliver(ctx, ack); err != nil || len(got) != 2 {
		t.Errorf("an update of a page the outbox forgot: %v %v", err, got)
	}
	// The page is pending because another service failed, but this one
	// took it: the update goes out now.
	took := func(k string) bool { return k == page.Key }
	if err := AfterPage(lookup{page.Key: page}, &got, took).Deliver(ctx, ack); err != nil || len(got) != 3 {
		t.Errorf("an update of a page this service took: %v %v", err, got)
	}
}
