package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/slackbot"
	"github.com/oncallhq/oncall/store"
)

// slackOptions are the bot's, on either transport.
func slackOptions(c config.Slack, st store.Store, changed incidentsChanged, log *slog.Logger) slackbot.Options {
	o := slackbot.Options{SigningSecret: c.SigningSecret, Store: st, Link: channelLinker{st: st, changed: changed, now: time.Now},
		Logger: log.With("component", "slack")}
	if c.BotToken != "" {
		o.Reply = slackbot.NewWebPoster(c.BotToken, c.APIURL)
	}
	return o
}

// slackHTTP is the Slack app's Events API endpoint, nil without a
// signing secret.
func slackHTTP(c config.Slack, st store.Store, changed incidentsChanged, log *slog.Logger) http.Handler {
	if c.SigningSecret == "" {
		return nil
	}
	return slackbot.Handler(slackOptions(c, st, changed, log))
}

// slackSocket runs the Slack app over Socket Mode, nil without an
// app-level token.
func slackSocket(c config.Slack, st store.Store, changed incidentsChanged, log *slog.Logger) func(context.Context) error {
	if c.AppToken == "" {
		return nil
	}
	sm, o := slackbot.SocketMode{AppToken: c.AppToken, APIURL: c.APIURL}, slackOptions(c, st, changed, log)
	return func(ctx context.Context) error { return sm.Run(ctx, o) }
}

// incidentsChanged is told when an incident was changed outside the
// pipeline, so that it looks again.
type incidentsChanged interface{ IncidentsChanged() }

// channelLinker links a channel as the API's channel action does.
type channelLinker struct {
	st      store.Store
	changed incidentsChanged
	now     func() time.Time
}

func (l channelLinker) LinkChannel(ctx context.Context, id int64, channel, by string) error {
	_, err := incidents.Act(ctx, store.Incidents(l.st), id, func(inc *incidents.Incident) ([]incidents.Page, error) {
		return nil, inc.LinkChannel(channel, incidents.Actor{Name: by, Source: "slack"}, l.now())
	})
	if err == nil {
		l.changed.IncidentsChanged()
	}
	return err
}
