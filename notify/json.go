package notify

import (
	"encoding/json"
	"strconv"
	"time"
)

// AppendJSON appends the message's JSON encoding to b without encoding/json
// re-validating the alerts it carries (a notification can carry thousands):
// the same bytes json.Marshal writes, several times faster.
func (m *Message) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = appendField(b, "key", m.Key)
	b = appendField(b, "kind", string(m.Kind))
	if m.Supersede != "" {
		b = appendField(b, "supersede", m.Supersede)
	}
	if m.Page != nil {
		pb, err := json.Marshal(m.Page)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"page":`...)
		b = append(b, pb...)
	}
	if n := m.Notification; n != nil {
		b = append(b, `,"notification":{"receiver":`...)
		r, _ := json.Marshal(n.Receiver)
		b = append(b, r...)
		b = appendField(b, "integration", n.Integration)
		b = append(b, `,"index":`...)
		b = strconv.AppendInt(b, int64(n.Index), 10)
		b = appendField(b, "groupKey", n.GroupKey)
		gl, err := json.Marshal(n.GroupLabels)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"groupLabels":`...)
		b = append(b, gl...)
		b = append(b, `,"alerts":[`...)
		for i := range n.Alerts {
			if i > 0 {
				b = append(b, ',')
			}
			b = n.Alerts[i].AppendJSON(b)
		}
		b = append(b, `],"at":`...)
		b = appendTime(b, n.At)
		if n.Reason != "" {
			b = appendField(b, "reason", n.Reason)
		}
		b = append(b, '}')
	}
	b = append(b, `,"createdAt":`...)
	b = appendTime(b, m.CreatedAt)
	if !m.NextAttemptAt.IsZero() {
		b = append(b, `,"nextAttemptAt":`...)
		b = appendTime(b, m.NextAttemptAt)
	}
	if !m.SentAt.IsZero() {
		b = append(b, `,"sentAt":`...)
		b = appendTime(b, m.SentAt)
	}
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(m.Attempts), 10)
	if m.LastError != "" {
		b = appendField(b, "lastError", m.LastError)
	}
	if m.Superseded {
		b = append(b, `,"superseded":true`...)
	}
	if m.Failed {
		b = append(b, `,"failed":true`...)
	}
	return append(b, '}'), nil
}

// appendField appends `,"name":"value"` with value JSON-escaped.
func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	v, _ := json.Marshal(value)
	return append(b, v...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
