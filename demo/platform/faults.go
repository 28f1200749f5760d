package platform

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fault is a scheduled misbehaviour of the platform.
type Fault struct {
	Name string
	// Start is the offset from the platform's start; Duration 0 lasts forever.
	Start    time.Duration
	Duration time.Duration
	// MatchFactor multiplies the match probability (0.1: matches collapse to 10%).
	MatchFactor float64
	// ErrorRatio is the fraction of requests answered with a 5xx during the fault.
	ErrorRatio float64
	// LatencyFactor multiplies request latency.
	LatencyFactor float64
}

// Active reports whether the fault is on at offset since start.
func (f Fault) Active(offset time.Duration) bool {
	return offset >= f.Start && (f.Duration == 0 || offset < f.Start+f.Duration)
}

// DefaultFaults is the demo's schedule: from t+30s for three minutes matches
// collapse to 10%, the error ratio jumps to 12% and latency quadruples.
func DefaultFaults() []Fault {
	return []Fault{{Name: "match-collapse", Start: 30 * time.Second, Duration: 3 * time.Minute, MatchFactor: 0.1, ErrorRatio: 0.12, LatencyFactor: 4}}
}

// ParseFaults parses a schedule such as
// "match-collapse@30s+3m:match=0.1,errors=0.12,latency=4;slow@5m+1m:latency=8".
// "" and "none" mean no faults.
func ParseFaults(s string) ([]Fault, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return nil, nil
	}
	var out []Fault
	for _, part := range strings.Split(s, ";") {
		f, err := parseFault(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("fault %q: %w", part, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func parseFault(s string) (Fault, error) {
	f := Fault{MatchFactor: 1, LatencyFactor: 1}
	head, params, _ := strings.Cut(s, ":")
	name, when, ok := strings.Cut(head, "@")
	if !ok || name == "" {
		return f, errors.New(`want NAME@START[+DURATION][:key=value,...]`)
	}
	f.Name = name
	start, dur, hasDur := strings.Cut(when, "+")
	var err error
	if f.Start, err = time.ParseDuration(start); err != nil || f.Start < 0 {
		return f, fmt.Errorf("start %q: want a duration such as 30s", start)
	}
	if hasDur {
		if f.Duration, err = time.ParseDuration(dur); err != nil || f.Duration <= 0 {
			return f, fmt.Errorf("duration %q: want a positive duration such as 3m", dur)
		}
	}
	if params == "" {
		return f, nil
	}
	for _, kv := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(kv, "=")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || x < 0 {
			return f, fmt.Errorf("parameter %q: want key=non-negative number", kv)
		}
		switch k {
		case "match":
			f.MatchFactor = x
		case "errors":
			if x > 1 {
				return f, fmt.Errorf("parameter %q: errors is a ratio between 0 and 1", kv)
			}
			f.ErrorRatio = x
		case "latency":
			f.LatencyFactor = x
		default:
			return f, fmt.Errorf("unknown parameter %q (want match, errors or latency)", k)
		}
	}
	return f, nil
}
