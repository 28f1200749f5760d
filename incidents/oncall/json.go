package oncall

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// The JSON of durations is a string as the configuration writes them
// ("45s", "1h30m", "7d"), not nanoseconds.

// MarshalJSON writes ack_timeout as a duration string.
func (a Assignment) MarshalJSON() ([]byte, error) {
	type plain Assignment
	return json.Marshal(struct {
		plain
		AckTimeout string `json:"ack_timeout"`
	}{plain(a), durationString(a.AckTimeout)})
}

// UnmarshalJSON reads ack_timeout as a duration string.
func (a *Assignment) UnmarshalJSON(b []byte) error {
	type plain Assignment
	var v struct {
		*plain
		AckTimeout string `json:"ack_timeout"`
	}
	v.plain = (*plain)(a)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDuration("ack_timeout", v.AckTimeout, &a.AckTimeout)
}

// MarshalJSON writes ack_timeout as a duration string.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		AckTimeout string `json:"ack_timeout"`
	}{plain(s), durationString(s.AckTimeout)})
}

// UnmarshalJSON reads ack_timeout as a duration string.
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	var v struct {
		*plain
		AckTimeout string `json:"ack_timeout"`
	}
	v.plain = (*plain)(s)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDuration("ack_timeout", v.AckTimeout, &s.AckTimeout)
}

// MarshalJSON writes shift as a duration string.
func (s Schedule) MarshalJSON() ([]byte, error) {
	type plain Schedule
	return json.Marshal(struct {
		plain
		Shift string `json:"shift"`
	}{plain(s), durationString(s.shift())})
}

// UnmarshalJSON reads shift as a duration string.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	type plain Schedule
	var v struct {
		*plain
		Shift string `json:"shift"`
	}
	v.plain = (*plain)(s)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDuration("shift", v.Shift, &s.Shift)
}

func durationString(d time.Duration) string { return model.Duration(d).String() }

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
