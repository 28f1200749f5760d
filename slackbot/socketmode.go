package slackbot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// SocketMode is how the bot reaches Slack without a public Request URL:
// the app-level token (xapp-…, scope connections:write) opens an outbound
// WebSocket that Slack sends the events down.
type SocketMode struct {
	AppToken string
	// APIURL replaces https://slack.com/api/ (a proxy, a test server).
	APIURL string
	// Retry is how long to wait after the n-th failed connection in a row
	// (default: 1s doubling to a minute).
	Retry func(n int) time.Duration
}

// Run takes events over Socket Mode until ctx ends, connecting again
// after each failure. An event is acknowledged once it is kept: one that
// is not is delivered again by Slack, as over HTTP.
func (sm SocketMode) Run(ctx context.Context, o Options) error {
	if sm.AppToken == "" {
		return errors.New("socket mode: no app-level token (slack.app_token, xapp-…)")
	}
	b := Handler(o).(*bot)
	retry := sm.Retry
	if retry == nil {
		retry = func(n int) time.Duration { return min(time.Second<<min(n, 6), time.Minute) }
	}
	opts := []slack.Option{slack.OptionAppLevelToken(sm.AppToken)}
	if sm.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(sm.APIURL))
	}
	for failures := 0; ctx.Err() == nil; {
		client := socketmode.New(slack.New("", opts...))
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- client.RunContext(runCtx) }()
		err := b.serve(runCtx, cancel, client, done, func() { failures = 0 })
		if ctx.Err() != nil {
			return nil
		}
		wait := retry(failures)
		failures++
		b.o.Logger.Error("slack socket mode disconnected: connecting again", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	return nil
}

// serve handles one connection's events until it fails (done: the
// client gave up) or ctx ends; then it cancels the client's context and
// waits for it to end.
func (b *bot) serve(ctx context.Context, cancel context.CancelFunc, client *socketmode.Client, done <-chan error, connected func()) error {
	defer func() {
		cancel()
		if done != nil {
			<-done
		}
	}()
	for {
		var evt socketmode.Event
		select {
		case <-ctx.Done():
			return nil
		case rerr := <-done:
			done = nil
			if rerr == nil || errors.Is(rerr, context.Canceled) {
				rerr = errors.New("the connection ended")
			}
			return rerr
		case evt = <-client.Events:
		}
		switch evt.Type {
		case socketmode.EventTypeConnected:
			connected()
			b.o.Logger.Info("slack socket mode connected")
		case socketmode.EventTypeInvalidAuth:
			return errors.New("slack refused the app-level token (invalid_auth)")
		case socketmode.EventTypeConnectionError:
			return fmt.Errorf("connection error: %v", evt.Data)
		case socketmode.EventTypeInteractive:
			cb, ok := evt.Data.(slack.InteractionCallback)
			if !ok || evt.Request == nil {
				continue
			}
			if err := b.interact(ctx, cb); err != nil {
				continue
			}
			if err := client.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
				b.o.Logger.Warn("slack action done but not acknowledged", "err", err)
			}
		case socketmode.EventTypeEventsAPI:
			ev, ok := evt.Data.(slackevents.EventsAPIEvent)
			if !ok || evt.Request == nil {
				continue
			}
			if err := b.handle(ctx, ev); err != nil {
				continue // not acknowledged: Slack sends it again
			}
			if err := client.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
				b.o.Logger.Warn("slack event kept but not acknowledged: it will come again, and be kept once", "err", err)
			}
		}
	}
}
