package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
)

// linkChannel points the incident's channel at it when the channel
// changed from was: re-saving an old incident never takes its channel
// back from the incident linked after it.
func (q queries) linkChannel(ctx context.Context, inc incidents.Incident, was string) error {
	if inc.Channel == "" || inc.Channel == was {
		return nil
	}
	_, err := q.db.ExecContext(ctx, `INSERT INTO incident_channels(channel, incident_id) VALUES (?, ?)
		ON CONFLICT(channel) DO UPDATE SET incident_id = excluded.incident_id`, inc.Channel, inc.ID)
	return wrap(err)
}

// ChannelIncident returns the incident channel belongs to.
func (q queries) ChannelIncident(ctx context.Context, channel string) (int64, error) {
	var id int64
	err := q.db.QueryRowContext(ctx, `SELECT incident_id FROM incident_channels WHERE channel = ?`, channel).Scan(&id)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("channel %q: %w", channel, incidents.ErrNotFound)
		}
		return 0, wrap(err)
	}
	return id, nil
}

// PutChatMessage keeps m, replacing the message with its channel and ID.
func (q queries) PutChatMessage(ctx context.Context, m chat.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.Text = chat.Clip(m.Text)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO chat_messages(channel, id, incident_id, at, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(channel, id) DO UPDATE SET incident_id = excluded.incident_id, at = excluded.at, body = excluded.body`,
		m.Channel, m.ID, m.Incident, m.At.UnixMilli(), string(b))
	return wrap(err)
}

// DeleteChatMessage forgets a message.
func (q queries) DeleteChatMessage(ctx context.Context, channel, id string) error {
	_, err := q.db.ExecContext(ctx, `DELETE FROM chat_messages WHERE channel = ? AND id = ?`, channel, id)
	return wrap(err)
}

// ChatMessages lists an incident's messages from from to to, oldest
// first (by time, then by ID, which Slack makes increase).
func (q queries) ChatMessages(ctx context.Context, incident int64, from, to time.Time) ([]chat.Message, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixMilli()
	}
	if !to.IsZero() {
		hi = to.UnixMilli()
	}
	var out []chat.Message
	return out, queryJSON(ctx, q.db, &out, `SELECT body FROM chat_messages WHERE incident_id = ? AND at >= ? AND at <= ? ORDER BY at, id`, incident, lo, hi)
}
