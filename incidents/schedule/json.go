package schedule

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// In JSON a duration is a string as the configuration writes it ("45s",
// "1h30m", "7d"), not nanoseconds.

// MarshalJSON writes delay as a duration string.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		Delay string `json:"delay"`
	}{plain(s), durationString(s.Delay)})
}

// UnmarshalJSON reads delay as a duration string.
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	var v struct {
		*plain
		Delay string `json:"delay"`
	}
	v.plain = (*plain)(s)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDuration("delay", v.Delay, &s.Delay)
}

// MarshalJSON writes ack_timeout as a duration string.
func (p Policy) MarshalJSON() ([]byte, error) {
	type plain Policy
	return json.Marshal(struct {
		plain
		AckTimeout string `json:"ack_timeout,omitempty"`
	}{plain(p), durationString(p.AckTimeout)})
}

// UnmarshalJSON reads ack_timeout as a duration string.
func (p *Policy) UnmarshalJSON(b []byte) error {
	type plain Policy
	var v struct {
		*plain
		AckTimeout string `json:"ack_timeout"`
	}
	v.plain = (*plain)(p)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDuration("ack_timeout", v.AckTimeout, &p.AckTimeout)
}

// MarshalJSON writes delay as a duration string.
func (a Assignment) MarshalJSON() ([]byte, error) {
	type plain Assignment
	return json.Marshal(struct {
		plain
		Delay string `json:"delay"`
	}{plain(a), durationString(a.Delay)})
}

// UnmarshalJSON reads delay as a duration string.
func (a *Assignment) UnmarshalJSON(b []byte) error {
	type plain Assignment
	var v struct {
		*plain
		Delay string `json:"delay"`
	}
	v.plain = (*plain)(a)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDuration("delay", v.Delay, &a.Delay)
}

// MarshalJSON writes max_stretch as a duration string.
func (s Schedule) MarshalJSON() ([]byte, error) {
	type plain Schedule
	return json.Marshal(struct {
		plain
		MaxStretch string `json:"max_stretch"`
	}{plain(s), durationString(s.maxStretch())})
}

// UnmarshalJSON reads max_stretch as a duration string.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	type plain Schedule
	var v struct {
		*plain
		MaxStretch string `json:"max_stretch"`
	}
	v.plain = (*plain)(s)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDuration("max_stretch", v.MaxStretch, &s.MaxStretch)
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return model.Duration(d).String()
}

func parseDuration(field, s string, d *time.Duration) error {
	if s == "" {
		*d = 0
		return nil
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%s: %q is not a duration", field, s)
	}
	*d = time.Duration(v)
	return nil
}
