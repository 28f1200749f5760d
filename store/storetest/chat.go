package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
)

// testChat: a channel belongs to the incident last linked to it, even
// when an older incident linked to it before is written again; messages
// are kept once per channel and ID, edited in place, deleted, listed per
// incident in a time range oldest first, and survive a reopen.
func testChat(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	if _, err := s.ChannelIncident(ctx, "C0NONE"); !errors.Is(err, incidents.ErrNotFound) {
		t.Fatalf("unknown channel: %v, want ErrNotFound", err)
	}
	old := &incidents.Incident{Title: "old", OpenedAt: t0, Channel: "C0WAR"}
	if err := s.CreateIncident(ctx, old); err != nil {
		t.Fatal(err)
	}
	if id, err := s.ChannelIncident(ctx, "C0WAR"); err != nil || id != old.ID {
		t.Fatalf("channel of a new incident: %d, %v; want %d", id, err, old.ID)
	}
	newer := &incidents.Incident{Title: "newer", OpenedAt: t0.Add(time.Hour)}
	if err := s.CreateIncident(ctx, newer); err != nil {
		t.Fatal(err)
	}
	newer.Channel = "C0WAR"
	if err := s.UpdateIncident(ctx, *newer); err != nil {
		t.Fatal(err)
	}
	old.Title = "old, written again"
	if err := s.UpdateIncident(ctx, *old); err != nil {
		t.Fatal(err)
	}
	if id, err := s.ChannelIncident(ctx, "C0WAR"); err != nil || id != newer.ID {
		t.Fatalf("channel after relinking: %d, %v; want the newer incident %d", id, err, newer.ID)
	}

	msg := func(id, text string, at time.Time) chat.Message {
		return chat.Message{Incident: newer.ID, Channel: "C0WAR", ID: id, Author: "U0ALICE", Text: text, At: at}
	}
	for _, m := range []chat.Message{
		msg("1000.000300", "third", t0.Add(3*time.Minute)),
		msg("1000.000100", "first", t0.Add(time.Minute)),
		msg("1000.000200", "second", t0.Add(2*time.Minute)),
		msg("1000.000100", "first", t0.Add(time.Minute)), // a retried delivery
		{Incident: old.ID, Channel: "C0OTHER", ID: "9.1", Text: "elsewhere", At: t0.Add(time.Minute)},
	} {
		if err := s.PutChatMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutChatMessage(ctx, chat.Message{Channel: "C0WAR", ID: "x", At: t0}); !errors.Is(err, chat.ErrInvalid) {
		t.Errorf("a message of no incident: %v, want chat.ErrInvalid", err)
	}
	edited := msg("1000.000200", "second, edited", t0.Add(2*time.Minute))
	edited.Edited = t0.Add(4 * time.Minute)
	if err := s.PutChatMessage(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChatMessage(ctx, "C0WAR", "1000.000300"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChatMessage(ctx, "C0WAR", "never.seen"); err != nil {
		t.Errorf("deleting an unknown message: %v", err)
	}

	s = reopen(t, s, open)
	got, err := s.ChatMessages(ctx, newer.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Text != "first" || got[1].Text != "second, edited" || !got[1].Edited.Equal(edited.Edited) ||
		got[0].Author != "U0ALICE" || !got[0].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("messages of %d: %+v", newer.ID, got)
	}
	got, err = s.ChatMessages(ctx, newer.ID, t0.Add(90*time.Second), t0.Add(10*time.Minute))
	if err != nil || len(got) != 1 || got[0].ID != "1000.000200" {
		t.Fatalf("messages from 10:01:30: %+v, %v", got, err)
	}
	if id, err := s.ChannelIncident(ctx, "C0WAR"); err != nil || id != newer.ID {
		t.Fatalf("channel after reopen: %d, %v", id, err)
	}
}
