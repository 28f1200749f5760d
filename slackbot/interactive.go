package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/oncallhq/oncall/incidents"
)

// ErrStranger is the error of a Slack member who is not one of oncall's
// users (no users[].slack_id names them).
var ErrStranger = errors.New("not one of oncall's users")

// Responder acts on an incident for a Slack member who pressed a page's
// button: action is "ack" or "escalate".
type Responder interface {
	Respond(ctx context.Context, incident int64, action, member string) (incidents.Incident, error)
}

// Page buttons, as notify/slack draws them.
var buttonActions = map[string]string{"oncall_ack": "ack", "oncall_escalate": "escalate"}

// interactivePayload reads the payload of an interactivity request (a
// form with the JSON in its payload field).
func interactivePayload(body []byte) (slack.InteractionCallback, error) {
	var cb slack.InteractionCallback
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return cb, fmt.Errorf("bad form: %w", err)
	}
	p := form.Get("payload")
	if p == "" {
		return cb, errors.New("no payload field")
	}
	if err := json.Unmarshal([]byte(p), &cb); err != nil {
		return cb, fmt.Errorf("bad payload: %w", err)
	}
	return cb, nil
}

// interact runs the buttons of a page (block_actions): the incident is
// acknowledged or escalated as the member's oncall user, and the page is
// rewritten to say so; what cannot be done is answered to the member
// alone. An error means the store failed and nothing was done.
func (b *bot) interact(ctx context.Context, cb slack.InteractionCallback) error {
	if cb.Type != slack.InteractionTypeBlockActions {
		return nil
	}
	for _, a := range cb.ActionCallback.BlockActions {
		action, ok := buttonActions[a.ActionID]
		if !ok {
			continue // the runbook's link button, or not ours
		}
		id, err := strconv.ParseInt(a.Value, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		if b.o.Respond == nil {
			b.answer(ctx, cb.ResponseURL, false, "oncall's Slack app takes no actions here: use `oncall incident "+action+"`.")
			continue
		}
		inc, err := b.o.Respond.Respond(ctx, id, action, cb.User.ID)
		switch {
		case errors.Is(err, ErrStranger):
			b.answer(ctx, cb.ResponseURL, false, fmt.Sprintf("You are not one of oncall's users: add your member ID (%s) as a slack_id under users in oncall.yaml.", cb.User.ID))
		case errors.Is(err, incidents.ErrNotFound):
			b.answer(ctx, cb.ResponseURL, false, fmt.Sprintf("There is no %s.", incidents.Ref(id)))
		case errors.Is(err, incidents.ErrTransition), errors.Is(err, incidents.ErrInvalid):
			b.answer(ctx, cb.ResponseURL, false, "Not done: "+err.Error())
		case err != nil:
			b.o.Logger.Error("slack action not done", "incident", incidents.Ref(id), "action", action, "err", err)
			b.answer(ctx, cb.ResponseURL, false, "oncall could not do it just now; try again, or use the CLI.")
			return err
		default:
			b.answer(ctx, cb.ResponseURL, true, done(inc, action, cb.User.ID, b.o.Now()))
		}
	}
	return nil
}

// done says what a button did, in place of the page's buttons.
func done(inc incidents.Incident, action, member string, now time.Time) string {
	at := now.UTC().Format("15:04 UTC")
	head := fmt.Sprintf("*[%s] %s*\n", inc.Ref(), mrkdwn(inc.Title))
	if action == "escalate" {
		return head + fmt.Sprintf(":arrow_up: Escalated by <@%s> at %s: paged %s.", member, at, mrkdwn(strings.Join(inc.Escalation.Paged, ", ")))
	}
	return head + fmt.Sprintf(":eyes: Acknowledged by <@%s> at %s.", member, at)
}

// mrkdwn makes text literal in Slack's markup.
func mrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// answer posts to the action's response URL: replacing the page, or to
// the member alone. It is logged, not retried, when it fails: the action
// itself is done.
func (b *bot) answer(ctx context.Context, responseURL string, replace bool, text string) {
	if responseURL == "" {
		return
	}
	msg := &slack.WebhookMessage{Text: text, ReplaceOriginal: replace}
	if !replace {
		msg.ResponseType = slack.ResponseTypeEphemeral
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, b.o.Client, msg); err != nil {
		b.o.Logger.Warn("slack answer not sent", "err", err)
	}
}
