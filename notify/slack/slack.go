// Package slack pages people by a direct message from oncall's Slack app
// (chat.postMessage to their member ID, scope chat:write): what is wrong,
// since when, the runbook, and buttons to acknowledge or escalate, which
// the Slack app (slackbot) answers. When the incident is acknowledged or
// closed, each person paged is told in the same conversation, so that
// nobody gets up for an incident someone else has taken.
package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
)

// Action IDs of a page's buttons, which the Slack app answers.
const (
	ActionAcknowledge = "oncall_ack"
	ActionEscalate    = "oncall_escalate"
)

// Notifier sends the pages of the people it knows the member IDs of.
type Notifier struct {
	c       *slackapi.Client
	members map[string]string
}

// New returns a notifier posting with the bot token; members maps oncall
// user names to Slack member IDs; apiURL, when set, replaces
// https://slack.com/api/.
func New(token, apiURL string, members map[string]string) *Notifier {
	opts := []slackapi.Option{slackapi.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second})}
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	return &Notifier{c: slackapi.New(token, opts...), members: members}
}

// Pages reports whether user is paged on Slack.
func (n *Notifier) Pages(user string) bool { return n.members[user] != "" }

// Deliver implements notify.Deliverer for pages and page updates.
func (n *Notifier) Deliver(ctx context.Context, m notify.Message) error {
	pg := m.Page
	if pg == nil {
		return notify.Permanent(fmt.Errorf("message %s is not a page", m.Key))
	}
	member := n.members[pg.Target]
	if member == "" {
		return notify.Permanent(fmt.Errorf("%s has no slack_id", pg.Target))
	}
	text, blocks := Message(*pg)
	_, _, err := n.c.PostMessageContext(ctx, member, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
	return classify(err)
}

// Message is the text (what the notification shows) and the blocks of a
// page or a page update.
func Message(pg incidents.Page) (string, []slackapi.Block) {
	ref := incidents.Ref(pg.IncidentID)
	if pg.IsUpdate() {
		text := fmt.Sprintf("%s %s: %s", ref, pg.Body, strings.TrimSpace(strings.TrimPrefix(pg.Subject, "["+ref+"]")))
		mark := ":white_check_mark:"
		if pg.Kind == incidents.PageAcknowledge {
			mark = ":eyes:"
		}
		return text, []slackapi.Block{slackapi.NewContextBlock("", slackapi.NewTextBlockObject(slackapi.MarkdownType, mark+" "+escape(text), false, false))}
	}
	var fields []*slackapi.TextBlockObject
	if s := pg.Severity.String(); s != "" {
		fields = append(fields, slackapi.NewTextBlockObject(slackapi.MarkdownType, "*Severity*\n"+s, false, false))
	}
	if pg.StepName != "" {
		fields = append(fields, slackapi.NewTextBlockObject(slackapi.MarkdownType, "*Paged as*\n"+escape(pg.StepName), false, false))
	}
	body := "*" + escape(pg.Subject) + "*"
	if pg.Body != "" {
		body += "\n" + escape(pg.Body)
	}
	body = notify.Clip(body, maxSection)
	id := strconv.FormatInt(pg.IncidentID, 10)
	buttons := []slackapi.BlockElement{
		slackapi.NewButtonBlockElement(ActionAcknowledge, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Acknowledge", false, false)).WithStyle(slackapi.StylePrimary),
		slackapi.NewButtonBlockElement(ActionEscalate, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Escalate", false, false)),
	}
	if pg.RunbookURL != "" {
		buttons = append(buttons, slackapi.NewButtonBlockElement("oncall_runbook", id, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Runbook", false, false)).WithURL(pg.RunbookURL))
	}
	blocks := []slackapi.Block{slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, body, false, false), fields, nil)}
	blocks = append(blocks, slackapi.NewActionBlock("oncall_page_"+id, buttons...))
	return pg.Subject, blocks
}

// maxSection is Slack's limit on a section block's text.
const maxSection = 3000

// escape makes text literal in Slack's mrkdwn: &, < and > are its only
// control characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// transient are Slack's error codes that another attempt can cure.
var transient = map[string]bool{"ratelimited": true, "fatal_error": true, "internal_error": true, "service_unavailable": true, "request_timeout": true}

// classify makes Slack's refusals permanent (a bad token, an unknown
// member, a missing scope) and leaves the rest (rate limits, 5xx, the
// network) to be retried.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var api slackapi.SlackErrorResponse
	if errors.As(err, &api) && !transient[api.Err] {
		return notify.Permanent(fmt.Errorf("message refused: %w", err))
	}
	var status slackapi.StatusCodeError
	if errors.As(err, &status) && !status.Retryable() {
		return notify.Permanent(fmt.Errorf("message refused: %w", err))
	}
	return err
}
