package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// postableAlert is one alert of a POST /api/v2/alerts body.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     dateTime          `json:"startsAt"`
	EndsAt       dateTime          `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// schemaErr is a body that is JSON but not the API's schema.
type schemaErr struct{ msg string }

func (e *schemaErr) Error() string { return e.msg }

// dateTime reads the date-time forms Alertmanager's API accepts.
type dateTime struct{ time.Time }

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", time.DateOnly}

// UnmarshalJSON parses a quoted date-time.
func (d *dateTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			d.Time = t
			return nil
		}
	}
	return fmt.Errorf("parsing time %q: not an RFC 3339 date-time", s)
}

// decodeAlerts reads a POST /api/v2/alerts body: a JSON array of alerts,
// each with labels. A body that is not JSON, or not one array, is an error
// (nothing of it applies); so is an alert without labels or with a
// generatorURL that is not a URI (a *schemaErr).
func decodeAlerts(r io.Reader) ([]postableAlert, error) {
	dec := json.NewDecoder(r)
	var out []postableAlert
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value in the body")
	}
	for i := range out {
		if out[i].Labels == nil {
			return nil, &schemaErr{fmt.Sprintf("%d.labels in body is required", i)}
		}
		if u := out[i].GeneratorURL; u != "" {
			if _, err := url.Parse(u); err != nil {
				return nil, &schemaErr{fmt.Sprintf("%d.generatorURL in body must be of type uri: %q", i, u)}
			}
		}
	}
	return out, nil
}

// prepare turns posted alerts into alerts received at now, as
// Alertmanager does: empty label values are dropped, a missing start is
// now (or the end), a missing end is now plus resolveTimeout (a timeout
// end a later explicit one overrides). It returns the valid alerts and one
// message per invalid one.
func prepare(posted []postableAlert, now time.Time, resolveTimeout time.Duration) ([]alerts.Alert, []string) {
	valid := make([]alerts.Alert, 0, len(posted))
	var invalid []string
	b := labels.NewScratchBuilder(8)
	for i := range posted {
		p := &posted[i]
		a := alerts.Alert{Labels: setOf(&b, p.Labels, true), Annotations: setOf(&b, p.Annotations, false), StartsAt: p.StartsAt.Time,
			EndsAt: p.EndsAt.Time, UpdatedAt: now, GeneratorURL: p.GeneratorURL}
		if a.StartsAt.IsZero() {
			if a.EndsAt.IsZero() {
				a.StartsAt = now
			} else {
				a.StartsAt = a.EndsAt
			}
		}
		if a.EndsAt.IsZero() {
			a.Timeout = true
			a.EndsAt = now.Add(resolveTimeout)
		}
		if err := a.Validate(); err != nil {
			invalid = append(invalid, err.Error())
			continue
		}
		valid = append(valid, a)
	}
	return valid, invalid
}

func setOf(b *labels.ScratchBuilder, m map[string]string, dropEmpty bool) labels.Labels {
	b.Reset()
	for k, v := range m {
		if dropEmpty && v == "" {
			continue
		}
		b.Add(k, v)
	}
	b.Sort()
	return b.Labels()
}
