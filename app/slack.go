package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/slackbot"
	"github.com/oncallhq/oncall/store"
	"github.com/slack-go/slack"
)

// slackOptions are the bot's, on either transport.
func slackOptions(cfg config.Config, st store.Store, changed incidentsChanged, self *slackbot.Self, log *slog.Logger) slackbot.Options {
	c := cfg.Slack
	o := slackbot.Options{SigningSecret: c.SigningSecret, Store: st, Link: channelLinker{st: st, changed: changed, now: time.Now},
		Respond: newResponder(cfg, st, changed), Self: self, Logger: log.With("component", "slack")}
	if c.BotToken != "" {
		o.Reply = slackbot.NewWebPoster(c.BotToken, c.APIURL)
	}
	return o
}

// slackHTTP is the Slack app's Events API endpoint, nil without a
// signing secret.
func slackHTTP(cfg config.Config, st store.Store, changed incidentsChanged, self *slackbot.Self, log *slog.Logger) http.Handler {
	if cfg.Slack.SigningSecret == "" {
		return nil
	}
	return slackbot.Handler(slackOptions(cfg, st, changed, self, log))
}

// slackSocket runs the Slack app over Socket Mode, nil without an
// app-level token.
func slackSocket(cfg config.Config, st store.Store, changed incidentsChanged, self *slackbot.Self, log *slog.Logger) func(context.Context) error {
	c := cfg.Slack
	if c.AppToken == "" {
		return nil
	}
	sm, o := slackbot.SocketMode{AppToken: c.AppToken, APIURL: c.APIURL}, slackOptions(cfg, st, changed, self, log)
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

// responder answers a page's buttons as the oncall user whose slack_id
// pressed them, through the same incidents.Act as the API.
type responder struct {
	st       store.Store
	settings incidents.Settings
	users    map[string]string // Slack member ID → user name
	changed  incidentsChanged
	now      func() time.Time
}

func newResponder(cfg config.Config, st store.Store, changed incidentsChanged) responder {
	r := responder{st: st, settings: cfg.IncidentSettings(), users: map[string]string{}, changed: changed, now: time.Now}
	for _, u := range cfg.Users {
		if u.SlackID != "" {
			r.users[u.SlackID] = u.Name
		}
	}
	return r
}

func (r responder) Respond(ctx context.Context, id int64, action, member string) (incidents.Incident, error) {
	user, ok := r.users[member]
	if !ok {
		return incidents.Incident{}, fmt.Errorf("slack member %s: %w", member, slackbot.ErrStranger)
	}
	by, now := incidents.Actor{Name: user, Source: "slack"}, r.now()
	inc, err := incidents.Act(ctx, store.Incidents(r.st), id, func(inc *incidents.Incident) ([]incidents.Page, error) {
		switch action {
		case "ack":
			return nil, inc.Acknowledge(r.settings, by, now)
		case "escalate":
			return inc.EscalateNow(r.settings, by, now)
		}
		return nil, fmt.Errorf("unknown action %q: %w", action, incidents.ErrInvalid)
	})
	if err == nil {
		r.changed.IncidentsChanged()
	}
	return inc, err
}

// slackChannels runs the incident channels, nil when they are off.
func slackChannels(cfg config.Config, st store.Store, self *slackbot.Self, log *slog.Logger) func(context.Context) {
	ic := cfg.Slack.IncidentChannels
	if !ic.Enabled || cfg.Slack.BotToken == "" {
		return nil
	}
	// A hung call must not stall the channels past the lease.
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second})}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.Slack.APIURL))
	}
	members := map[string]string{}
	for _, u := range cfg.Users {
		if u.SlackID != "" {
			members[u.Name] = u.SlackID
		}
	}
	host, _ := os.Hostname()
	c := &slackbot.Channels{Store: recentIncidents{st}, Slack: slack.New(cfg.Slack.BotToken, opts...), Prefix: ic.Prefix,
		MinSeverity: ic.MinSeverity, Private: ic.Private, Members: members,
		Holder: fmt.Sprintf("%s/%d", host, os.Getpid()), Self: self, Logger: log.With("component", "slack channels")}
	return func(ctx context.Context) { c.Run(ctx, 2*time.Second) }
}

// recentIncidents is the store as incident channels read it.
type recentIncidents struct{ store.Store }

func (r recentIncidents) UpdateIncidents(ctx context.Context, f func(incidents.Tx) ([]incidents.Page, error)) error {
	return store.Incidents(r.Store).UpdateIncidents(ctx, f)
}

func (r recentIncidents) RecentIncidents(ctx context.Context, since time.Time) ([]incidents.Incident, error) {
	return r.Incidents(ctx, store.IncidentFilter{Since: since})
}
