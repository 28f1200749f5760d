package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// parseBody parses a scrape by its Content-Type: OpenMetrics when the target
// says so, the Prometheus text format otherwise (Prometheus 2 falls back to
// it too).
func parseBody(contentType string, body []byte) ([]Sample, error) {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/openmetrics-text" {
		return ParseOpenMetrics(bytes.NewReader(body))
	}
	return ParseExposition(bytes.NewReader(body))
}

// ParseExposition parses the Prometheus text exposition format into samples
// named the way Prometheus stores them: histograms as _bucket (with le,
// including +Inf), _sum and _count; summaries as the quantiles, _sum and
// _count. Labels with an empty value are dropped and timestamps ignored; the
// samples' T is zero.
func ParseExposition(r io.Reader) ([]Sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %w", err)
	}
	var out []Sample
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			out = appendMetric(out, name, f.GetType(), m)
		}
	}
	return out, nil
}

// appendMetric flattens one metric of a family into stored samples.
func appendMetric(out []Sample, name string, typ dto.MetricType, m *dto.Metric) []Sample {
	b := labels.NewScratchBuilder(len(m.GetLabel()) + 2)
	add := func(suffix string, v float64, extra ...string) {
		b.Reset()
		b.Add(model.MetricNameLabel, name+suffix)
		for _, lp := range m.GetLabel() {
			if lp.GetValue() != "" {
				b.Add(lp.GetName(), lp.GetValue())
			}
		}
		for i := 0; i+1 < len(extra); i += 2 {
			b.Add(extra[i], extra[i+1])
		}
		b.Sort()
		out = append(out, Sample{Labels: b.Labels(), Value: v})
	}
	switch typ {
	case dto.MetricType_COUNTER:
		add("", m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		add("", m.GetGauge().GetValue())
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		h := m.GetHistogram()
		inf := false
		for _, bk := range h.GetBucket() {
			inf = inf || math.IsInf(bk.GetUpperBound(), 1)
			add("_bucket", float64(bk.GetCumulativeCount()), "le", formatFloat(bk.GetUpperBound()))
		}
		if !inf {
			add("_bucket", float64(h.GetSampleCount()), "le", "+Inf")
		}
		add("_sum", h.GetSampleSum())
		add("_count", float64(h.GetSampleCount()))
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			add("", q.GetValue(), "quantile", formatFloat(q.GetQuantile()))
		}
		add("_sum", s.GetSampleSum())
		add("_count", float64(s.GetSampleCount()))
	default:
		add("", m.GetUntyped().GetValue())
	}
	return out
}

// ParseOpenMetrics parses the OpenMetrics 1.0 text format: it is rewritten
// into the Prometheus text format (# EOF and # UNIT dropped, exemplars and
// timestamps cut, unknown, info, stateset and gaugehistogram families read
// as untyped) and parsed by ParseExposition. Series keep their exposed names:
// counters end in _total, and _created series are kept, as Prometheus 2
// keeps them. The samples' T is zero.
func ParseOpenMetrics(r io.Reader) ([]Sample, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("parse openmetrics: %w", err)
	}
	var text strings.Builder
	text.Grow(len(b))
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "# EOF":
			return parseRewritten(text.String())
		case strings.HasPrefix(line, "# UNIT "):
			continue
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if len(f) == 4 && omUntyped[f[3]] {
				line = "# TYPE " + f[2] + " untyped"
			}
		case strings.HasPrefix(line, "#"):
		default:
			line = omSample(line)
		}
		text.WriteString(line)
		text.WriteByte('\n')
	}
	return nil, errors.New("parse openmetrics: no \"# EOF\" line")
}

func parseRewritten(text string) ([]Sample, error) {
	s, err := ParseExposition(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("openmetrics: %w", err)
	}
	return s, nil
}

// omUntyped are the OpenMetrics types the text format does not have.
var omUntyped = map[string]bool{"unknown": true, "info": true, "stateset": true, "gaugehistogram": true}

// omSample keeps the name, labels and value of a sample line, cutting its
// timestamp and exemplar.
func omSample(line string) string {
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return line
	}
	if line[i] == '{' {
		i = labelSetEnd(line, i)
	}
	f := strings.Fields(line[i:])
	if len(f) == 0 {
		return line // let the parser report it
	}
	return line[:i] + " " + f[0]
}

// labelSetEnd returns the index after the '}' closing the label set opened
// at open, skipping quoted values; len(line) when it is not closed.
func labelSetEnd(line string, open int) int {
	quoted, escaped := false, false
	for j := open + 1; j < len(line); j++ {
		switch c := line[j]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return j + 1
		}
	}
	return len(line)
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
