package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/oncallhq/oncall/incidents"
)

// ChannelStore is what incident channels need of the store: the recent
// incidents, their transactions, and a lease so that one process posts.
type ChannelStore interface {
	incidents.Store
	// RecentIncidents lists the open incidents and those resolved since.
	RecentIncidents(ctx context.Context, since time.Time) ([]incidents.Incident, error)
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
}

// ChannelAPI is the part of Slack's Web API incident channels use
// (scopes channels:manage, chat:write; groups:write for private ones).
type ChannelAPI interface {
	CreateConversationContext(ctx context.Context, p slack.CreateConversationParams) (*slack.Channel, error)
	GetConversationsContext(ctx context.Context, p *slack.GetConversationsParameters) ([]slack.Channel, string, error)
	SetPurposeOfConversationContext(ctx context.Context, channel, purpose string) (*slack.Channel, error)
	InviteUsersToConversationContext(ctx context.Context, channel string, users ...string) (*slack.Channel, error)
	PostMessageContext(ctx context.Context, channel string, opts ...slack.MsgOption) (string, string, error)
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
}

// Self is the app's own bot, learnt from auth.test: the messages it posts
// in incident channels come back as events, and are not kept (the
// timeline has them already).
type Self struct {
	mu    sync.Mutex
	botID string
}

// BotID is the bot's ID ("" until known).
func (s *Self) BotID() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botID
}

func (s *Self) set(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botID = id
}

// Channels gives each incident that needs one a Slack channel of its
// own, and keeps it told. An incident opened within the last hour at
// MinSeverity or worse, or declared by hand, gets a channel named
// <prefix>-<number>-<title>, linked to it (what is said there goes into
// its timeline and postmortem), with a purpose, the people paged and
// given roles invited, and an opening message. From then on each change
// on its timeline (acknowledged, escalated, severity, roles, updates,
// tasks, mitigated, resolved) is posted there, once: the incident counts
// what was told (Announced), so a restart neither repeats nor skips. A
// channel linked by hand is told from the moment it is linked. Only the
// holder of the slack-channels lease posts.
type Channels struct {
	Store ChannelStore
	Slack ChannelAPI
	// Prefix begins every channel's name (default inc).
	Prefix string
	// MinSeverity is the least severe incident opened by alerts that
	// gets a channel (default SEV2); declared incidents always get one.
	MinSeverity incidents.Severity
	Private     bool
	// Members maps oncall users to their Slack member IDs, for invites.
	Members map[string]string
	// Holder names this process for the lease.
	Holder string
	// Self, when set, learns the bot's ID for the event handler.
	Self   *Self
	Logger *slog.Logger

	mu      sync.Mutex
	retry   map[int64]time.Time // incident → when to try creating again
	failed  map[int64]int
	invited map[string]bool // channel + member
}

// ChannelLease is the lease that says which process posts.
const ChannelLease = "slack-channels"

// Pass does what is due at now: channels for new incidents, the news of
// the others.
func (c *Channels) Pass(ctx context.Context, now time.Time) error {
	// Every process learns the bot (it may be the one taking events).
	if c.Self != nil && c.Self.BotID() == "" {
		if a, err := c.Slack.AuthTestContext(ctx); err == nil {
			c.Self.set(a.BotID)
		} else {
			c.log().Warn("slack auth.test failed: the channel's own posts may be kept as chat", "err", err)
		}
	}
	ok, err := c.Store.AcquireLease(ctx, ChannelLease, c.Holder, 30*time.Second, now)
	if err != nil || !ok {
		return err
	}
	incs, err := c.Store.RecentIncidents(ctx, now.Add(-time.Hour))
	if err != nil {
		return err
	}
	var errs []error
	for _, inc := range incs {
		if inc.MergedInto != 0 && inc.Announced >= len(inc.Timeline) {
			continue
		}
		if inc.Channel == "" {
			if c.wants(inc, now) {
				errs = append(errs, c.open(ctx, inc, now))
			}
			continue
		}
		errs = append(errs, c.tell(ctx, inc))
	}
	return errors.Join(errs...)
}

// wants says whether inc should get a channel now.
func (c *Channels) wants(inc incidents.Incident, now time.Time) bool {
	if !inc.Open() || inc.MergedInto != 0 || now.Sub(inc.OpenedAt) > time.Hour {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.retry[inc.ID]; ok && now.Before(t) {
		return false
	}
	min := c.MinSeverity
	if min == 0 {
		min = incidents.SEV2
	}
	return inc.DeclaredBy != "" || (inc.Severity != 0 && inc.Severity <= min)
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// ChannelName is the channel of an incident: prefix, number and the
// title in Slack's alphabet (lower case, digits, dashes), at most 80
// characters.
func ChannelName(prefix string, inc incidents.Incident) string {
	if prefix == "" {
		prefix = "inc"
	}
	name := fmt.Sprintf("%s-%d", prefix, inc.ID)
	if slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(inc.Title), "-"), "-"); slug != "" {
		name += "-" + slug
	}
	if len(name) > 80 {
		name = strings.TrimRight(name[:80], "-")
	}
	return name
}

// open creates (or, after a crash between creating and linking, finds)
// the incident's channel, links it and says what the incident is.
func (c *Channels) open(ctx context.Context, inc incidents.Incident, now time.Time) error {
	name := ChannelName(c.Prefix, inc)
	ch, err := c.Slack.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: c.Private})
	var api slack.SlackErrorResponse
	if errors.As(err, &api) && api.Err == "name_taken" {
		ch, err = c.find(ctx, name, inc)
	}
	if err != nil {
		c.backoff(inc.ID, now)
		return fmt.Errorf("channel for %s: %w", inc.Ref(), err)
	}
	purpose := fmt.Sprintf("%s · %s · %s (kept by oncall)", inc.Ref(), orDash(inc.Severity.String()), inc.Title)
	if _, err := c.Slack.SetPurposeOfConversationContext(ctx, ch.ID, truncate(purpose, 250)); err != nil {
		c.log().Warn("incident channel purpose not set", "incident", inc.Ref(), "channel", ch.ID, "err", err)
	}
	// The opening goes out before the link: a failed post is tried again
	// (the channel found again) rather than skipped; a crash between the
	// two repeats it, at worst.
	if _, _, err := c.Slack.PostMessageContext(ctx, ch.ID, slack.MsgOptionText(opening(inc), false)); err != nil {
		c.backoff(inc.ID, now)
		return fmt.Errorf("opening message of %s: %w", inc.Ref(), err)
	}
	told := len(inc.Timeline) // what the opening said; later events are told next
	linked, err := incidents.Act(ctx, c.Store, inc.ID, func(i *incidents.Incident) ([]incidents.Page, error) {
		if i.Channel != "" && i.Channel != ch.ID {
			return nil, nil // linked by hand meanwhile: that one stays
		}
		if err := i.LinkChannel(ch.ID, incidents.Actor{Name: "oncall", Source: "slack"}, now); err != nil {
			return nil, err
		}
		i.Announced = max(i.Announced, told)
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("link %s to %s: %w", ch.ID, inc.Ref(), err)
	}
	if linked.Channel == ch.ID {
		c.invite(ctx, linked)
	}
	return nil
}

// find is the channel a crashed attempt made: the one of that name,
// unless its purpose says it belongs to something else.
func (c *Channels) find(ctx context.Context, name string, inc incidents.Incident) (*slack.Channel, error) {
	p := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 1000, Types: []string{"public_channel", "private_channel"}}
	for {
		chs, next, err := c.Slack.GetConversationsContext(ctx, p)
		if err != nil {
			return nil, err
		}
		for i := range chs {
			ch := &chs[i]
			if ch.Name != name {
				continue
			}
			if pur := ch.Purpose.Value; pur != "" && !strings.HasPrefix(pur, inc.Ref()+" ") {
				return nil, fmt.Errorf("the channel #%s exists and is not %s's (its purpose: %q); set slack.incident_channels.prefix", name, inc.Ref(), pur)
			}
			return ch, nil
		}
		if next == "" {
			return nil, fmt.Errorf("channel #%s is taken but not found (archived, or not visible to the app)", name)
		}
		p.Cursor = next
	}
}

// backoff waits longer after each failure to create a channel for id.
func (c *Channels) backoff(id int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retry == nil {
		c.retry, c.failed = map[int64]time.Time{}, map[int64]int{}
	}
	c.failed[id]++
	c.retry[id] = now.Add(min(time.Second<<min(c.failed[id], 8), 5*time.Minute))
}

// invite asks the people paged, the one who acknowledged and those with
// roles into the channel; each once per process (Slack answers
// already_in_channel after a restart, which is fine).
func (c *Channels) invite(ctx context.Context, inc incidents.Incident) {
	people := append([]string{inc.AckedBy}, inc.Escalation.Paged...)
	for _, r := range incidents.Roles {
		people = append(people, inc.Assigned[r])
	}
	for _, p := range people {
		m := c.Members[p]
		if m == "" {
			continue
		}
		c.mu.Lock()
		if c.invited == nil {
			c.invited = map[string]bool{}
		}
		done := c.invited[inc.Channel+"/"+m]
		c.invited[inc.Channel+"/"+m] = true
		c.mu.Unlock()
		if done {
			continue
		}
		_, err := c.Slack.InviteUsersToConversationContext(ctx, inc.Channel, m)
		var api slack.SlackErrorResponse
		if err != nil && !(errors.As(err, &api) && api.Err == "already_in_channel") {
			c.log().Warn("not invited to the incident channel", "incident", inc.Ref(), "user", p, "err", err)
		}
	}
}

// tell posts what happened on the incident since it was last told.
func (c *Channels) tell(ctx context.Context, inc incidents.Incident) error {
	n := len(inc.Timeline)
	if inc.Announced == 0 {
		// A channel linked by hand (or before this feature): from now on.
		return c.announced(ctx, inc.ID, n)
	}
	if inc.Announced >= n {
		return nil
	}
	var lines []string
	for _, ev := range inc.Timeline[inc.Announced:] {
		if l := eventLine(ev); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 {
		c.invite(ctx, inc)
		if _, _, err := c.Slack.PostMessageContext(ctx, inc.Channel, slack.MsgOptionText(strings.Join(lines, "\n"), false)); err != nil {
			return fmt.Errorf("news of %s: %w", inc.Ref(), err)
		}
	}
	return c.announced(ctx, inc.ID, n)
}

// announced records that the first n timeline events were told.
func (c *Channels) announced(ctx context.Context, id int64, n int) error {
	_, err := incidents.Act(ctx, c.Store, id, func(i *incidents.Incident) ([]incidents.Page, error) {
		i.Announced = max(i.Announced, n)
		return nil, nil
	})
	return err
}

// told are the timeline events worth a line in the channel; the others
// (the channel's own link, errors, free notes) stay in the timeline.
var told = map[string]string{
	"acknowledged": ":eyes:", "ack-timeout": ":alarm_clock:", "escalation": ":rotating_light:", "escalated": ":arrow_up:",
	"mitigated": ":adhesive_bandage:", "resolved": ":white_check_mark:", "reopened": ":repeat:", "role": ":bust_in_silhouette:",
	"severity": ":warning:", "update": ":speech_balloon:", "public-update": ":loudspeaker:", "task": ":pushpin:",
	"task-done": ":ballot_box_with_check:", "merged": ":link:", "alerts": ":bell:",
}

func eventLine(ev incidents.Event) string {
	mark, ok := told[ev.Kind]
	if !ok {
		return ""
	}
	line := fmt.Sprintf("%s `%s` %s", mark, ev.At.UTC().Format("15:04"), mrkdwn(ev.Text))
	if ev.Actor != "" && !strings.Contains(ev.Text, ev.Actor) {
		line += " — " + mrkdwn(ev.Actor)
	}
	if ev.Kind == "public-update" {
		line += " _(public)_"
	}
	return line
}

// opening is the channel's first message: what, how bad, who.
func opening(inc incidents.Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s · %s · %s*\n", inc.Ref(), orDash(inc.Severity.String()), mrkdwn(inc.Title))
	if inc.Summary != "" {
		b.WriteString(mrkdwn(inc.Summary) + "\n")
	}
	fmt.Fprintf(&b, "Status: %s", inc.Status)
	if inc.Service != "" {
		fmt.Fprintf(&b, " · service %s", mrkdwn(inc.Service))
	}
	if len(inc.Escalation.Paged) > 0 {
		fmt.Fprintf(&b, " · paged %s", mrkdwn(strings.Join(inc.Escalation.Paged, ", ")))
	}
	if ic := inc.Assigned[incidents.RoleCommander]; ic != "" {
		fmt.Fprintf(&b, " · incident commander %s", mrkdwn(ic))
	}
	if inc.RunbookURL != "" {
		fmt.Fprintf(&b, "\nRunbook: %s", inc.RunbookURL)
	}
	if inc.Drill {
		b.WriteString("\n_This is a drill._")
	}
	b.WriteString("\nWhat is written here goes into the incident's timeline and postmortem; oncall posts each change of the incident here.")
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// truncate cuts s to n characters (Slack counts a purpose's so).
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (c *Channels) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Run passes every interval until ctx ends.
func (c *Channels) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := c.Pass(ctx, time.Now()); err != nil && ctx.Err() == nil {
			c.log().Warn("incident channels", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
