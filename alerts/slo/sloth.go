package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/yamlnode"
)

// SlothVersion is the one Sloth spec version ParseSloth reads.
const SlothVersion = "prometheus/v1"

// SlothService is one document of a Sloth file: a service and its SLOs,
// with the spec's labels on each SLO.
type SlothService struct {
	Service string
	SLOs    []SLO
}

// ParseSloth reads a file of Sloth's prometheus/v1 specs as Sloth writes
// them (one service per YAML document): events and raw SLIs, alerting
// with page_alert and ticket_alert, infoLabels and interval. Each problem
// is reported as file:line: field: message, all of them together. SLI
// plugins and SLO plugins are not supported and say so. Sloth's SLO
// period is not in the spec: the SLOs get DefaultWindow (30d, Sloth's
// default too), which the caller may change.
func ParseSloth(file string, data []byte) ([]SlothService, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []SlothService
	var errs []error
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(file, err)
		}
		if len(doc.Content) == 0 || yamlnode.IsNull(doc.Content[0]) {
			continue
		}
		p := &slothParser{file: file}
		svc := p.spec(doc.Content[0])
		if len(p.errs) > 0 {
			errs = append(errs, p.errs...)
			continue
		}
		out = append(out, svc)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no Sloth spec in the file", file)
	}
	return out, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError puts yaml.v3's "yaml: line N: msg" as file:N: msg.
func yamlError(file string, err error) error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: %s", file, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
}

// slothParser walks one document's node tree, collecting problems.
type slothParser struct {
	file string
	errs []error
	// merged counts the mappings merged in (<<), which aliases can
	// multiply: a document may merge at most maxMerged of them.
	merged int
}

func (p *slothParser) errf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s: %s", p.file, n.Line, path, fmt.Sprintf(format, args...)))
}

// unsupported are fields of Sloth's spec that oncall cannot honour, and why.
var unsupported = map[string]string{
	"slo_plugins": "Sloth's SLO plugins are not supported: oncall generates the rules itself; remove slo_plugins",
	"plugins":     "Sloth's SLO plugins are not supported: oncall generates the rules itself; remove plugins",
	"plugin":      "Sloth's SLI plugins are not supported: write the SLI as events (error_query, total_query) or raw (error_ratio_query)",
}

// fields returns the values of a mapping by key, reporting duplicate
// keys, keys not in known (named with what is known) and the unsupported.
// Merge keys (<<) are followed; the mapping's own keys win over merged ones.
func (p *slothParser) fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	return p.mergedFields(n, path, 0, known)
}

// maxMerges bounds merge keys within merge keys (and their cycles), and
// maxMerged the mappings merged in one document.
const (
	maxMerges = 8
	maxMerged = 1000
)

func (p *slothParser) mergedFields(n *yaml.Node, path string, depth int, known []string) map[string]*yaml.Node {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errf(n, path, "want a mapping, got %s", yamlnode.Describe(n))
		return nil
	}
	out := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := keys[k.Value]; dup {
			p.errf(k, yamlnode.Join(path, k.Value), "duplicate key (first at line %d)", first.Line)
			continue
		}
		keys[k.Value] = k
		switch {
		case unsupported[k.Value] != "" && !slices.Contains(known, k.Value):
			p.errf(k, yamlnode.Join(path, k.Value), "%s", unsupported[k.Value])
		case !slices.Contains(known, k.Value):
			p.errf(k, yamlnode.Join(path, k.Value), "unknown field; %s has %s", describe(path), strings.Join(known, ", "))
		default:
			out[k.Value] = v
		}
	}
	if len(merges) > 0 && depth >= maxMerges {
		p.errf(n, path, "merge keys (<<) nested deeper than %d", maxMerges)
		return out
	}
	for _, m := range merges {
		m = yamlnode.Resolve(m)
		list := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			list = m.Content
		}
		for _, item := range list {
			if p.merged++; p.merged > maxMerged {
				p.errf(n, path, "more than %d mappings merged in (<<)", maxMerged)
				return out
			}
			for k, v := range p.mergedFields(item, path, depth+1, known) {
				if _, own := out[k]; !own && keys[k] == nil {
					out[k] = v
				}
			}
		}
	}
	return out
}

func describe(path string) string {
	if path == "" {
		return SlothVersion
	}
	return path
}

func (p *slothParser) str(n *yaml.Node, path string) string {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.ScalarNode || yamlnode.IsNull(n) {
		p.errf(n, path, "want a string, got %s", yamlnode.Describe(n))
		return ""
	}
	return n.Value
}

func (p *slothParser) float(n *yaml.Node, path string) float64 {
	n = yamlnode.Resolve(n)
	var f float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") || n.Decode(&f) != nil {
		p.errf(n, path, "want a number, got %s", yamlnode.Describe(n))
	}
	return f
}

func (p *slothParser) boolean(n *yaml.Node, path string) bool {
	n = yamlnode.Resolve(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.errf(n, path, "want true or false, got %s", yamlnode.Describe(n))
	}
	return b
}

// labelKind is what a mapping of names to values is for.
type labelKind int

const (
	ruleLabels  labelKind = iota // on recorded series and alerts
	alertLabels                  // on alerts: templates
	annotations                  // alert annotations: templates
)

// labels reads a mapping of names to scalar values.
func (p *slothParser) labels(n *yaml.Node, path string, kind labelKind) map[string]string {
	n = yamlnode.Resolve(n)
	if yamlnode.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, path, "want a mapping of names to values, got %s", yamlnode.Describe(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		field := yamlnode.Join(path, k.Value)
		if _, dup := out[k.Value]; dup {
			p.errf(k, field, "duplicate key")
			continue
		}
		if v.Kind != yaml.ScalarNode {
			p.errf(v, field, "want a value, got %s", yamlnode.Describe(v))
			continue
		}
		val := v.Value
		if yamlnode.IsNull(v) {
			val = ""
		}
		out[k.Value] = val
		var nameErr, valErr error
		switch kind {
		case annotations:
			if !model.LegacyValidation.IsValidLabelName(k.Value) {
				nameErr = fmt.Errorf("%q: an annotation name is letters, digits and '_'", k.Value)
			}
			valErr = checkLabelValue(val, true)
		default:
			// Sloth's severity label becomes the alert's severity.
			if k.Value != "severity" || kind != alertLabels {
				nameErr = checkLabelName(k.Value)
			}
			valErr = checkLabelValue(val, kind == alertLabels)
		}
		if nameErr != nil {
			p.errf(k, field, "%v", nameErr)
		}
		if valErr != nil {
			p.errf(v, field, "%v", valErr)
		}
	}
	return out
}

// query reads a PromQL query; sli says it is measured over windows. A
// parse error in a literal block is placed on the file's line.
func (p *slothParser) query(n *yaml.Node, path string, sli bool) string {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.ScalarNode || yamlnode.IsNull(n) || strings.TrimSpace(n.Value) == "" {
		p.errf(n, path, "want a PromQL query, got %s", yamlnode.Describe(n))
		return ""
	}
	q := n.Value
	var err error
	if sli {
		err = checkSLIQuery(q)
	} else {
		err = checkVector(q)
	}
	if err != nil {
		line := n.Line
		var pe parser.ParseErrors
		if errors.As(err, &pe) && len(pe) > 0 && n.Style&yaml.LiteralStyle != 0 {
			// The block starts on the next line; an error at the end of
			// the query is on its last line.
			before := strings.TrimRight(q[:min(max(int(pe[0].PositionRange.Start), 0), len(q))], "\n")
			line += 1 + strings.Count(before, "\n")
		}
		p.errs = append(p.errs, fmt.Errorf("%s:%d: %s: %w", p.file, line, path, err))
		return ""
	}
	return q
}

// spec reads one document.
func (p *slothParser) spec(n *yaml.Node) SlothService {
	root := yamlnode.Resolve(n)
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "apiVersion" {
				v := yamlnode.Resolve(root.Content[i+1]).Value
				what := "this apiVersion"
				switch {
				case strings.HasPrefix(v, "sloth.slok.dev/"):
					what = "Sloth's Kubernetes PrometheusServiceLevel"
				case strings.HasPrefix(v, "openslo/"):
					what = "OpenSLO"
				}
				p.errf(root.Content[i], "apiVersion", "%q: %s is not supported; write Sloth's %s spec (version: %q)", v, what, SlothVersion, SlothVersion)
				return SlothService{}
			}
		}
	}
	f := p.fields(n, "", "version", "service", "labels", "slos")
	if f == nil {
		return SlothService{}
	}
	var svc SlothService
	if v, ok := f["version"]; !ok {
		p.errf(root, "version", "required: %q", SlothVersion)
	} else if s := p.str(v, "version"); s != SlothVersion && s != "" {
		p.errf(v, "version", "%q: want %q, the Sloth spec oncall reads", s, SlothVersion)
	}
	if v, ok := f["service"]; !ok {
		p.errf(root, "service", "required")
	} else {
		svc.Service = p.str(v, "service")
		if err := checkName(svc.Service); err != nil && svc.Service != "" {
			p.errf(v, "service", "%v", err)
		}
	}
	var common map[string]string
	if v, ok := f["labels"]; ok {
		common = p.labels(v, "labels", ruleLabels)
	}
	v, ok := f["slos"]
	if !ok {
		p.errf(root, "slos", "required: the service's SLOs")
		return svc
	}
	list := yamlnode.Resolve(v)
	if list.Kind != yaml.SequenceNode {
		p.errf(list, "slos", "want a list, got %s", yamlnode.Describe(list))
		return svc
	}
	if len(list.Content) == 0 {
		p.errf(list, "slos", "no SLO")
	}
	seen := map[string]int{}
	for i, item := range list.Content {
		path := fmt.Sprintf("slos[%d]", i)
		s, ok := p.slo(item, path, common)
		if !ok {
			continue
		}
		if j, dup := seen[s.Name]; dup {
			p.errf(yamlnode.Resolve(item), path+".name", "%q: slos[%d] has the same name", s.Name, j)
		}
		seen[s.Name] = i
		if err := s.Validate(); err != nil {
			// What the checks above missed, on the SLO's line.
			p.errf(yamlnode.Resolve(item), path, "%v", err)
		}
		svc.SLOs = append(svc.SLOs, s)
	}
	return svc
}

func (p *slothParser) slo(n *yaml.Node, path string, common map[string]string) (SLO, bool) {
	before := len(p.errs)
	f := p.fields(n, path, "name", "description", "objective", "labels", "infoLabels", "sli", "alerting", "interval")
	if f == nil {
		return SLO{}, false
	}
	item := yamlnode.Resolve(n)
	s := SLO{Window: DefaultWindow}
	if v, ok := f["name"]; !ok {
		p.errf(item, path+".name", "required")
	} else if s.Name = p.str(v, path+".name"); s.Name != "" {
		if err := checkName(s.Name); err != nil {
			p.errf(v, path+".name", "%v", err)
		}
	}
	if v, ok := f["description"]; ok {
		s.Description = p.str(v, path+".description")
	}
	if v, ok := f["objective"]; !ok {
		p.errf(item, path+".objective", "required: a percentage such as 99.9")
	} else {
		n0 := len(p.errs)
		if s.Objective = p.float(v, path+".objective"); len(p.errs) == n0 {
			if err := checkObjective(s.Objective); err != nil {
				p.errf(v, path+".objective", "%v", err)
			}
		}
	}
	var own map[string]string
	if v, ok := f["labels"]; ok {
		own = p.labels(v, path+".labels", ruleLabels)
	}
	s.Labels = merged(common, own)
	if v, ok := f["infoLabels"]; ok {
		s.InfoLabels = p.labels(v, path+".infoLabels", ruleLabels)
	}
	if v, ok := f["sli"]; !ok {
		p.errf(item, path+".sli", "required: events or raw")
	} else {
		s.ErrorRatio = p.sli(v, path+".sli")
	}
	if v, ok := f["alerting"]; !ok {
		p.errf(item, path+".alerting", "required: at least the alerts' name")
	} else {
		p.alerting(v, path+".alerting", &s)
	}
	if v, ok := f["interval"]; ok {
		s.Interval = p.interval(v, path+".interval")
	}
	return s, len(p.errs) == before
}

// sli reads events or raw as one error-ratio query.
func (p *slothParser) sli(n *yaml.Node, path string) string {
	f := p.fields(n, path, "events", "raw")
	if f == nil {
		return ""
	}
	ev, isEvents := f["events"]
	raw, isRaw := f["raw"]
	switch {
	case isEvents && isRaw:
		p.errf(raw, path+".raw", "an SLI is events or raw, not both")
	case isEvents:
		ef := p.fields(ev, path+".events", "error_query", "total_query")
		if ef == nil {
			return ""
		}
		var qs [2]string
		for i, key := range []string{"error_query", "total_query"} {
			q, ok := ef[key]
			if !ok {
				p.errf(yamlnode.Resolve(ev), path+".events."+key, "required: a PromQL query with %s", Placeholder)
				continue
			}
			qs[i] = p.query(q, path+".events."+key, true)
		}
		if qs[0] == "" || qs[1] == "" {
			return ""
		}
		// Bad over total, as Sloth divides them; no events is no ratio.
		return inParens(qs[0], "") + "\n/\n(\n  " + inParens(qs[1], "  ") + " > 0\n)"
	case isRaw:
		rf := p.fields(raw, path+".raw", "error_ratio_query", "errorRatioQuery")
		if rf == nil {
			return ""
		}
		q, ok := rf["error_ratio_query"]
		if old, ok2 := rf["errorRatioQuery"]; ok2 {
			if ok {
				p.errf(old, path+".raw.errorRatioQuery", "the older spelling of error_ratio_query: set only one")
			}
			q, ok = old, true
		}
		if !ok {
			p.errf(yamlnode.Resolve(raw), path+".raw.error_ratio_query", "required: a PromQL query with %s", Placeholder)
			return ""
		}
		return p.query(q, path+".raw.error_ratio_query", true)
	default:
		p.errf(yamlnode.Resolve(n), path, "want events (error_query, total_query) or raw (error_ratio_query)")
	}
	return ""
}

func (p *slothParser) alerting(n *yaml.Node, path string, s *SLO) {
	f := p.fields(n, path, "name", "labels", "annotations", "page_alert", "ticket_alert")
	if f == nil {
		return
	}
	if v, ok := f["name"]; !ok {
		p.errf(yamlnode.Resolve(n), path+".name", "required: the alerts' name")
	} else if s.Alert = p.str(v, path+".name"); s.Alert != "" {
		if err := checkAlertName(s.Alert); err != nil {
			p.errf(v, path+".name", "%v", err)
		}
	}
	var common map[string]string
	if v, ok := f["labels"]; ok {
		common = p.labels(v, path+".labels", alertLabels)
	}
	if v, ok := f["annotations"]; ok {
		s.Annotations = p.labels(v, path+".annotations", annotations)
	}
	for _, a := range []struct {
		key string
		dst *Alerting
	}{{"page_alert", &s.Page}, {"ticket_alert", &s.Ticket}} {
		labels := merged(common)
		if v, ok := f[a.key]; ok && !yamlnode.IsNull(yamlnode.Resolve(v)) {
			af := p.fields(v, path+"."+a.key, "disable", "labels", "annotations")
			if d, ok := af["disable"]; ok {
				a.dst.Disable = p.boolean(d, path+"."+a.key+".disable")
			}
			if l, ok := af["labels"]; ok {
				labels = merged(labels, p.labels(l, path+"."+a.key+".labels", alertLabels))
			}
			if an, ok := af["annotations"]; ok {
				a.dst.Annotations = p.labels(an, path+"."+a.key+".annotations", annotations)
			}
		}
		// Sloth's severity label is oncall's severity.
		if sev, ok := labels["severity"]; ok {
			a.dst.Severity = sev
			delete(labels, "severity")
		}
		a.dst.Labels = merged(labels)
	}
}

// interval reads Sloth's rule group intervals. oncall runs an SLO's rules
// in one group, so they must agree.
func (p *slothParser) interval(n *yaml.Node, path string) model.Duration {
	f := p.fields(n, path, "all", "slierror", "metadata", "alert")
	var got model.Duration
	var first string
	for _, key := range []string{"all", "slierror", "metadata", "alert"} {
		v, ok := f[key]
		if !ok {
			continue
		}
		s := p.str(v, path+"."+key)
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			if s != "" {
				p.errf(v, path+"."+key, "%q: want a duration such as 30s or 1m", s)
			}
			continue
		}
		if err := checkInterval(model.Duration(d)); err != nil {
			p.errf(v, path+"."+key, "%v", err)
			continue
		}
		if got != 0 && model.Duration(d) != got {
			p.errf(v, path+"."+key, "%s differs from %s: oncall evaluates an SLO's rules in one group, at one interval", s, first)
			continue
		}
		got, first = model.Duration(d), key+" "+strconv.Quote(s)
	}
	return got
}
