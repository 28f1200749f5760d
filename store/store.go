// Package store is the contract of oncall's durable state, the truth every
// other part reads and writes: alerts, rule-alert state, alert groups, the
// notification log, silences, incidents, the outbox and the pipeline lease.
// It holds interfaces only; store/sqlite implements them (store/postgres
// will), and store/storetest is the conformance suite every implementation
// passes. Lookups that find nothing return the domain's own errors
// (incidents.ErrNotFound, silence.ErrNotFound).
package store

import (
	"context"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing/dispatch"
	"github.com/oncallhq/oncall/routing/nflog"
	"github.com/oncallhq/oncall/routing/silence"
)

// Store is oncall's durable state. Its methods are safe for concurrent use
// and each is atomic; Update makes several atomic together.
type Store interface {
	Reader
	Writer
	Checklists
	Chat
	// Identity is a random ID made when the store was created. It tells
	// this store from an emptied or foreign one and begins every outbox key.
	Identity() string
	// Update runs f in one transaction: all of its writes happen or none.
	Update(ctx context.Context, f func(Tx) error) error
	Close() error
}

// Tx is a transaction.
type Tx interface {
	Reader
	Writer
}

// IncidentFilter selects incidents, newest first.
type IncidentFilter struct {
	OpenOnly bool
	// Since, when set, keeps the incidents active at some time since it:
	// open ones, and those resolved at or after it.
	Since time.Time
	Limit int
}

// HistoryFilter selects alert transitions, oldest first.
type HistoryFilter struct {
	// Since and Until bound when (zero: unbounded).
	Since, Until time.Time
	// Name, when set, keeps one alertname's.
	Name string
	// Limit keeps the newest so many (0: all).
	Limit int
}

// MessageFilter selects outbox messages, newest first.
type MessageFilter struct {
	Kind  notify.Kind // "" for every kind
	Limit int
}

// Reader reads state.
type Reader interface {
	Alerts(ctx context.Context) ([]alerts.Alert, error)
	// AlertsWrittenSince returns the alerts written after since by any
	// writer but notBy (a standby's alerts, for the leader), and when the
	// newest of them was written.
	AlertsWrittenSince(ctx context.Context, since time.Time, notBy string) ([]alerts.Alert, time.Time, error)
	RuleAlerts(ctx context.Context) ([]alerts.RuleAlert, error)
	// History lists recorded alert transitions, oldest first.
	History(ctx context.Context, f HistoryFilter) ([]alerts.Transition, error)
	Groups(ctx context.Context) ([]dispatch.GroupState, error)
	NotificationLog(ctx context.Context) ([]nflog.Entry, error)
	Silence(ctx context.Context, id string) (silence.Silence, error)
	Silences(ctx context.Context) ([]silence.Silence, error)
	Incident(ctx context.Context, id int64) (incidents.Incident, error)
	// OpenIncident returns the unresolved incident the key (an alert
	// group) attaches to, by its Key or one of its Links, if any.
	OpenIncident(ctx context.Context, key string) (incidents.Incident, bool, error)
	Incidents(ctx context.Context, f IncidentFilter) ([]incidents.Incident, error)
	// DueEscalations lists open incidents whose next escalation (or, when
	// acknowledged, whose acknowledgement's expiry) is at or before now;
	// NextEscalation is the earliest one (zero if none).
	DueEscalations(ctx context.Context, now time.Time) ([]int64, error)
	NextEscalation(ctx context.Context) (time.Time, error)
	// PendingMessages returns up to limit undelivered messages due at now,
	// oldest first; NextAttempt is when the earliest pending one is due
	// (zero if none).
	PendingMessages(ctx context.Context, now time.Time, limit int) ([]notify.Message, error)
	NextAttempt(ctx context.Context) (time.Time, error)
	Messages(ctx context.Context, f MessageFilter) ([]notify.Message, error)
	// Message returns the message with the key (notify.ErrNotFound if
	// none).
	Message(ctx context.Context, key string) (notify.Message, error)
	// OutboxBacklog counts the undelivered messages and says when the
	// oldest was queued (zero if none).
	OutboxBacklog(ctx context.Context) (n int, oldest time.Time, err error)
	// Lease returns who holds the named lease and until when ("" if nobody).
	Lease(ctx context.Context, name string) (holder string, until time.Time, err error)
}

// Writer writes state.
type Writer interface {
	// PutAlerts inserts or replaces alerts by fingerprint, recording who
	// wrote them and when.
	PutAlerts(ctx context.Context, writer string, as []alerts.Alert) error
	DeleteAlerts(ctx context.Context, fps []uint64) error
	// ReplaceRuleAlerts replaces the whole rule-alert state.
	ReplaceRuleAlerts(ctx context.Context, as []alerts.RuleAlert) error
	// AppendHistory records alert transitions; ExpireHistory forgets those
	// before a time.
	AppendHistory(ctx context.Context, ts []alerts.Transition) error
	ExpireHistory(ctx context.Context, before time.Time) (int, error)
	PutGroups(ctx context.Context, gs []dispatch.GroupState) error
	DeleteGroups(ctx context.Context, ids []string) error
	PutNotificationLog(ctx context.Context, es []nflog.Entry) error
	// ExpireNotificationLog deletes entries expired at now.
	ExpireNotificationLog(ctx context.Context, now time.Time) (int, error)
	// PutSilence inserts or replaces a silence by ID.
	PutSilence(ctx context.Context, s silence.Silence) error
	DeleteSilences(ctx context.Context, ids []string) error
	// CreateIncident stores a new incident and sets its ID; IDs are never
	// reused.
	CreateIncident(ctx context.Context, inc *incidents.Incident) error
	UpdateIncident(ctx context.Context, inc incidents.Incident) error
	// Enqueue adds messages to the outbox and sets their IDs. A key that
	// is already there is an error: keys are unique by construction.
	Enqueue(ctx context.Context, ms []notify.Message) error
	// MarkMessages records delivery outcomes.
	MarkMessages(ctx context.Context, ms []notify.Message) error
	// AcquireLease takes or renews the named lease for holder until
	// now+ttl; it fails (false) while another holder's lease runs.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Incidents adapts a store to what the incident lifecycle needs.
func Incidents(s Store) incidents.Store { return incidentStore{s} }

type incidentStore struct{ Store }

func (s incidentStore) UpdateIncidents(ctx context.Context, f func(incidents.Tx) ([]incidents.Page, error)) error {
	return s.Update(ctx, func(tx Tx) error {
		pages, err := f(tx)
		if err != nil || len(pages) == 0 {
			return err
		}
		return tx.Enqueue(ctx, notify.Pages(pages))
	})
}

// Checklists is the durable state of the readiness checklists: every run
// of a checklist for a service, with its per-check results, and the
// records runs read (attestations, waivers, results pushed from outside).
// Both are kept, never edited: the history of a service's readiness and
// who vouched for what are read back from them.
type Checklists interface {
	// AddChecklistRun stores a run and sets its ID.
	AddChecklistRun(ctx context.Context, run *checklist.Run) error
	// ChecklistRuns lists runs, newest first.
	ChecklistRuns(ctx context.Context, f ChecklistRunFilter) ([]checklist.Run, error)
	// AddChecklistRecord stores a record and sets its ID.
	AddChecklistRecord(ctx context.Context, r *checklist.Record) error
	// ChecklistRecords lists records, oldest first.
	ChecklistRecords(ctx context.Context, f ChecklistRecordFilter) ([]checklist.Record, error)
}

// Chat is what the chat bot keeps of incident channels: which incident a
// channel belongs to, and the messages written there. A channel belongs
// to the incident last linked to it: the index follows incidents.Incident
// Channel as incidents are written, changing only when an incident's
// channel does.
type Chat interface {
	// ChannelIncident returns the incident channel belongs to
	// (incidents.ErrNotFound if none).
	ChannelIncident(ctx context.Context, channel string) (int64, error)
	// PutChatMessage keeps m, replacing the message with its channel and
	// ID: a message captured twice (a retried delivery) is kept once.
	PutChatMessage(ctx context.Context, m chat.Message) error
	// DeleteChatMessage forgets a message deleted in the chat; an unknown
	// one is no error.
	DeleteChatMessage(ctx context.Context, channel, id string) error
	// ChatMessages lists the messages of incident written from from to to
	// (either zero: unbounded), oldest first.
	ChatMessages(ctx context.Context, incident int64, from, to time.Time) ([]chat.Message, error)
}

// ChecklistRunFilter selects checklist runs; empty fields select all.
type ChecklistRunFilter struct {
	Checklist string
	Service   string
	// Limit keeps the newest so many (0: all).
	Limit int
}

// ChecklistRecordFilter selects checklist records; empty fields select
// all.
type ChecklistRecordFilter struct {
	Checklist string
	Service   string
	Kind      checklist.RecordKind
	// CurrentAt, when set, keeps the records that count at that instant
	// (recorded at or before it, expiring after it).
	CurrentAt time.Time
}
