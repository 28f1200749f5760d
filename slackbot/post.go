package slackbot

import (
	"context"

	"github.com/slack-go/slack"
)

// WebPoster posts with Slack's Web API (chat.postMessage) as the bot.
type WebPoster struct{ c *slack.Client }

// NewWebPoster returns a poster with the bot token; apiURL, when set,
// replaces https://slack.com/api/ (a test server, a proxy).
func NewWebPoster(token, apiURL string) *WebPoster {
	var opts []slack.Option
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &WebPoster{c: slack.New(token, opts...)}
}

// PostMessage posts text in channel, in the thread of thread when set.
func (p *WebPoster) PostMessage(ctx context.Context, channel, thread, text string) error {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	_, _, err := p.c.PostMessageContext(ctx, channel, opts...)
	return err
}
