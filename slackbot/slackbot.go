// Package slackbot is oncall's Slack app: it takes the Events API over
// Socket Mode (an outbound WebSocket, no public URL) or HTTP (each
// request's signature checked), keeps the messages of incident channels
// for the incident's timeline and postmortem, and links a channel to an
// incident when mentioned with "link INC-42". It is a client of the domain like
// the console: it reads and writes through small interfaces, never the
// pipeline. The buttons of the pages sent as direct messages
// (notify/slack) come back here: acknowledge and escalate, as the oncall
// user whose slack_id pressed them.
package slackbot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack/slackevents"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
)

// Store is where the bot finds a channel's incident and keeps its
// messages.
type Store interface {
	ChannelIncident(ctx context.Context, channel string) (int64, error)
	PutChatMessage(ctx context.Context, m chat.Message) error
	DeleteChatMessage(ctx context.Context, channel, id string) error
}

// Linker links a channel to an incident, as `oncall incident channel`
// does: by is who asked ("slack:U0123").
type Linker interface {
	LinkChannel(ctx context.Context, incident int64, channel, by string) error
}

// Poster answers in a channel (thread: the message answered).
type Poster interface {
	PostMessage(ctx context.Context, channel, thread, text string) error
}

// Options configure the bot.
type Options struct {
	// SigningSecret is the app's signing secret: every HTTP request must
	// carry its signature (Socket Mode does without).
	SigningSecret string
	Store         Store
	Link          Linker
	// Reply, when set, answers mentions in the channel; without a bot
	// token there is nobody to answer with.
	Reply Poster
	// Respond, when set, answers the buttons of the pages sent as direct
	// messages (acknowledge, escalate).
	Respond Responder
	// Client posts the answers to a button's response URL (default: a
	// 10-second timeout).
	Client *http.Client
	// Self, when set, is the app's own bot: its messages are not kept.
	Self   *Self
	Now    func() time.Time
	Logger *slog.Logger
}

// Bounds of a request.
const (
	// maxBody bounds an event's body: Slack's are a few kilobytes.
	maxBody = 1 << 20
	// maxSkew is how old (or early) a request's timestamp may be: Slack's
	// documented replay window.
	maxSkew = 5 * time.Minute
)

// Handler returns the Events API endpoint (Slack's Request URL), which
// takes interactivity requests (a page's buttons) too.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &bot{o: o}
}

type bot struct{ o Options }

func (b *bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if err := Verify(b.o.SigningSecret, r.Header, body, b.o.Now()); err != nil {
		b.o.Logger.Warn("slack event refused", "err", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// An interactivity request: a button was pressed.
		cb, err := interactivePayload(body)
		if err != nil {
			http.Error(w, "bad interaction: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := b.interact(r.Context(), cb); err != nil {
			http.Error(w, "not done: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "bad event: "+err.Error(), http.StatusBadRequest)
		return
	}
	if ev.Type == slackevents.URLVerification {
		var c slackevents.ChallengeResponse
		if err := json.Unmarshal(body, &c); err != nil {
			http.Error(w, "bad challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, c.Challenge)
		return
	}
	if err := b.handle(r.Context(), ev); err != nil {
		// Slack delivers again (three times) when it is not answered 2xx:
		// a message the store could not keep is not lost to a hiccup.
		http.Error(w, "not kept: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handle runs one Events API event, whichever way it came (HTTP or
// Socket Mode); an error means it was not kept and should come again.
func (b *bot) handle(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	if ev.Type != slackevents.CallbackEvent {
		return nil
	}
	var err error
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		err = b.message(ctx, inner)
	case *slackevents.AppMentionEvent:
		err = b.mention(ctx, inner)
	}
	if err != nil {
		b.o.Logger.Error("slack event not kept", "event", ev.InnerEvent.Type, "err", err)
	}
	return err
}

// Verify checks a request's signature as Slack documents it: the
// X-Slack-Signature header is "v0=" and the hex HMAC-SHA256, keyed by the
// signing secret, of "v0:" + X-Slack-Request-Timestamp + ":" + the body;
// the timestamp must be within five minutes of now.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	if secret == "" {
		return errors.New("no signing secret configured")
	}
	ts, sig := h.Get("X-Slack-Request-Timestamp"), h.Get("X-Slack-Signature")
	if ts == "" || sig == "" {
		return errors.New("no X-Slack-Request-Timestamp or X-Slack-Signature header")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad X-Slack-Request-Timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("request timestamp %s is %s away from now: a replay, or a clock that is off", time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	want := "v0=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return errors.New("bad signature")
	}
	return nil
}

// skipped are the message subtypes that say nothing about the incident.
var skipped = map[string]bool{"channel_join": true, "channel_leave": true, "group_join": true, "group_leave": true}

// message keeps, edits or forgets a message of a linked channel.
func (b *bot) message(ctx context.Context, m *slackevents.MessageEvent) error {
	if skipped[m.SubType] {
		return nil
	}
	if self := b.o.Self.BotID(); self != "" && (m.BotID == self || m.Message != nil && m.Message.BotID == self) {
		return nil // oncall's own post: the timeline has it
	}
	inc, err := b.o.Store.ChannelIncident(ctx, m.Channel)
	if errors.Is(err, incidents.ErrNotFound) {
		return nil // not an incident's channel
	}
	if err != nil {
		return err
	}
	switch m.SubType {
	case "message_deleted":
		return b.o.Store.DeleteChatMessage(ctx, m.Channel, m.DeletedTimeStamp)
	case "message_changed":
		if m.Message == nil {
			return nil
		}
		edited := b.o.Now()
		if m.Message.Edited != nil {
			if t, ok := parseTS(m.Message.Edited.Timestamp); ok {
				edited = t
			}
		}
		author := m.Message.User
		if author == "" {
			author = m.Message.Username
		}
		return b.keep(ctx, inc, m.Channel, m.Message.Timestamp, author, m.Message.Text, m.Message.ThreadTimestamp, edited)
	}
	author := m.User
	if author == "" {
		author = m.Username // a bot's message
	}
	if author == "" {
		author = m.BotID
	}
	return b.keep(ctx, inc, m.Channel, m.TimeStamp, author, m.Text, m.ThreadTimeStamp, time.Time{})
}

func (b *bot) keep(ctx context.Context, inc int64, channel, ts, author, text, thread string, edited time.Time) error {
	at, ok := parseTS(ts)
	if !ok {
		return nil // nothing to file it under; Slack always sends one
	}
	if thread == ts {
		thread = "" // a thread's first message is at the top level
	}
	return b.o.Store.PutChatMessage(ctx, chat.Message{Incident: inc, Channel: channel, ID: ts, Author: author, Text: text, At: at, Edited: edited, Thread: thread})
}

// maxTS is the last second of year 9999: a later "ts" is no Slack
// message's, and no store could write it as a time.
const maxTS = 253402300799

// parseTS reads a Slack message ts ("1700000000.000100": seconds and
// microseconds) as a time.
func parseTS(ts string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 || s > maxTS {
		return time.Time{}, false
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(s, us*1000).UTC(), true
}

var (
	mentionRE = regexp.MustCompile(`<[@!#][^>]*>`)
	linkRE    = regexp.MustCompile(`(?i)^\s*(?:link|incident)\s+(?:INC-)?(\d+)\s*$`)
)

// help is the answer to a mention the bot does not understand.
const help = "Say `link INC-42` to make this the channel of INC-42: what is written here from then on goes into its timeline and postmortem."

// mention runs "link INC-42" (or "incident 42") and answers.
func (b *bot) mention(ctx context.Context, m *slackevents.AppMentionEvent) error {
	if m.BotID != "" {
		return nil // bots do not command the bot
	}
	text := mentionRE.ReplaceAllString(m.Text, " ")
	thread := m.ThreadTimeStamp
	if thread == "" {
		thread = m.TimeStamp
	}
	g := linkRE.FindStringSubmatch(text)
	if g == nil {
		return b.reply(ctx, m.Channel, thread, help)
	}
	id, err := strconv.ParseInt(g[1], 10, 64)
	if err != nil || id <= 0 {
		return b.reply(ctx, m.Channel, thread, help)
	}
	switch err := b.o.Link.LinkChannel(ctx, id, m.Channel, "slack:"+m.User); {
	case errors.Is(err, incidents.ErrNotFound):
		return b.reply(ctx, m.Channel, thread, fmt.Sprintf("There is no %s.", incidents.Ref(id)))
	case errors.Is(err, incidents.ErrTransition), errors.Is(err, incidents.ErrInvalid):
		return b.reply(ctx, m.Channel, thread, "Not linked: "+err.Error())
	case err != nil:
		return err
	}
	return b.reply(ctx, m.Channel, thread, fmt.Sprintf("This is now the channel of %s: what is written here goes into its timeline and postmortem.", incidents.Ref(id)))
}

// reply answers in the thread when the bot can post; an answer that
// fails is logged, not retried: the link itself is done.
func (b *bot) reply(ctx context.Context, channel, thread, text string) error {
	if b.o.Reply == nil {
		return nil
	}
	if err := b.o.Reply.PostMessage(ctx, channel, thread, text); err != nil {
		b.o.Logger.Warn("slack reply not sent", "channel", channel, "err", err)
	}
	return nil
}
