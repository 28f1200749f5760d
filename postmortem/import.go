package postmortem

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/mdtable"
)

// sectionNames maps the headings common templates use (Google's SRE
// book, PagerDuty's, Atlassian's, Heroku's retrospective, GOV.UK's) to the
// standard sections, lower case without punctuation.
var sectionNames = map[string]string{
	"summary": "summary", "executive summary": "summary", "overview": "summary", "description": "summary", "incident summary": "summary", "what happened": "summary",
	"impact": "impact", "customer impact": "impact", "user impact": "impact", "business impact": "impact", "impact assessment": "impact",
	"timeline": "timeline", "incident timeline": "timeline", "detailed timeline": "timeline", "chronology": "timeline",
	"trigger": "trigger", "triggers": "trigger",
	"root cause": "root-cause", "root causes": "root-cause", "root cause analysis": "root-cause", "cause": "root-cause", "causes": "root-cause", "why did it happen": "root-cause", "five whys": "root-cause", "5 whys": "root-cause",
	"contributing factors": "contributing-factors", "contributing factor": "contributing-factors", "contributing causes": "contributing-factors",
	"detection": "detection", "how was it detected": "detection", "how we found out": "detection",
	"response": "response", "incident response": "response", "responders": "response",
	"recovery": "recovery", "resolution": "recovery", "mitigation": "recovery", "remediation": "recovery", "how was it fixed": "recovery",
	"what went well": "went-well", "things that went well": "went-well", "went well": "went-well", "lessons learned": "went-well",
	"what went wrong": "went-wrong", "things that went wrong": "went-wrong", "went wrong": "went-wrong", "what didnt go so well": "went-wrong", "what could have gone better": "went-wrong",
	"where we got lucky": "lucky", "lucky": "lucky", "what was lucky": "lucky",
	"action items": "action-items", "actions": "action-items", "corrective actions": "action-items", "follow ups": "action-items", "followups": "action-items", "follow up": "action-items", "next steps": "action-items", "todo": "action-items", "action item": "action-items",
	"supporting information": "supporting", "references": "supporting", "appendix": "supporting", "links": "supporting", "glossary": "supporting", "supporting documents": "supporting",
}

// metaNames maps metadata headings and "Key: value" lines to front matter
// fields.
var metaNames = map[string]string{
	"date": "started", "incident date": "started", "start": "started", "start time": "started", "started": "started", "began": "started",
	"detected": "detected", "detection time": "detected",
	"acknowledged": "acknowledged",
	"mitigated":    "mitigated", "mitigation time": "mitigated",
	"end": "resolved", "end time": "resolved", "resolved": "resolved", "ended": "resolved",
	"authors": "owner", "author": "owner", "owner": "owner", "owners": "owner", "incident owner": "owner", "postmortem owner": "owner",
	"facilitator": "facilitator", "incident commander": "facilitator",
	"status": "status", "document status": "status",
	"severity": "severity", "sev": "severity", "priority": "severity", "incident severity": "severity",
	"service": "services", "services": "services", "affected services": "services", "product": "services", "components": "services", "systems affected": "services",
	"id": "id", "incident id": "id", "uuid": "id", "key": "id", "incident": "id",
	"title": "title", "name": "title",
}

// ImportReport says what an import found and what it did not.
type ImportReport struct {
	// Sections maps each standard section found to the heading it came
	// from; Missing lists the standard sections not found.
	Sections map[string]string
	Missing  []string
	// Ignored are front matter keys and metadata it could not use.
	Ignored []string
}

var (
	headingRE = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	// metaLineRE is "**Status:** Complete", "Status: Complete", "- **Owner**: ana".
	metaLineRE = regexp.MustCompile(`^\s*(?:[-*]\s+)?(?:\*\*|__)?([A-Za-z][A-Za-z ]{1,30}?)(?::(?:\*\*|__)|(?:\*\*|__):|:)\s*(.+?)\s*$`)
	// timeMarkRE is a time-box in a heading: "Timeline (00:05)".
	timeMarkRE = regexp.MustCompile(`\(\s*\d{1,2}:\d{2}\s*\)`)
)

// normHeading is a heading lower case, without emphasis, numbering,
// punctuation and time-boxes.
func normHeading(h string) string {
	h = timeMarkRE.ReplaceAllString(h, "")
	h = strings.ToLower(h)
	h = strings.TrimLeft(h, "0123456789. ")
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == ' ':
			b.WriteRune(r)
		case r == '-' || r == '/' || r == '_':
			b.WriteRune(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Import reads a postmortem written with another template — heading-based
// Markdown, with or without YAML front matter — and returns it as oncall's
// document: front matter made from what it says (its front matter, its
// metadata lines and sections, its action item table or task list), over
// its body unchanged. The document's File is not set.
func Import(file string, content []byte) (Document, ImportReport, error) {
	rep := ImportReport{Sections: map[string]string{}}
	body := bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
	var fm FrontMatter
	meta := map[string]string{}
	if first, rest, _ := bytes.Cut(body, []byte("\n")); delimiter(first, false) {
		d, err := splitForeign(file, rest)
		if err != nil {
			return Document{}, rep, err
		}
		for k, v := range d.values {
			if f, ok := metaNames[normHeading(k)]; ok {
				meta[f] = v
			} else if f, ok := foreignKeys[k]; ok {
				meta[f] = v
			} else {
				rep.Ignored = append(rep.Ignored, "front matter "+k)
			}
		}
		body = d.body
	}
	lines := strings.Split(string(body), "\n")
	fence := ""
	var section, metaSection string
	var actionLines []string
	headings := 0
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			switch {
			case fence == "":
				fence = t[:3]
			case strings.HasPrefix(t, fence):
				fence = ""
			}
			continue
		}
		if fence != "" {
			continue
		}
		if m := headingRE.FindStringSubmatch(l); m != nil {
			headings++
			text := strings.Trim(m[2], "*_ ")
			if len(m[1]) == 1 && fm.Title == "" && meta["title"] == "" {
				fm.Title = text
			}
			key := normHeading(text)
			section, metaSection = "", ""
			if s, ok := sectionNames[key]; ok {
				section = s
				if _, seen := rep.Sections[s]; !seen {
					rep.Sections[s] = text
				}
			} else if f, ok := metaNames[key]; ok {
				metaSection = f
			}
			continue
		}
		switch {
		case metaSection != "" && t != "":
			if _, done := meta[metaSection]; !done {
				meta[metaSection] = strings.Trim(t, "*_ ")
			}
		case section == "action-items":
			actionLines = append(actionLines, l)
		case section == "" && t != "":
			if m := metaLineRE.FindStringSubmatch(t); m != nil {
				if f, ok := metaNames[normHeading(m[1])]; ok {
					if _, done := meta[f]; !done {
						meta[f] = strings.Trim(m[2], "*_ ")
					}
				}
			}
		}
	}
	if headings == 0 && len(meta) == 0 {
		return Document{}, rep, Problem{File: file, Line: 1, Msg: "nothing to import: no front matter and no Markdown headings"}
	}
	for _, s := range Sections {
		if _, ok := rep.Sections[s.Key]; !ok {
			rep.Missing = append(rep.Missing, s.Key)
		}
	}
	applyMeta(&fm, meta, &rep)
	if fm.ID == "" {
		fm.ID = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if strings.TrimSpace(fm.Title) == "" {
		// A heading of only whitespace (a vertical tab) is no title: the
		// document would not read back.
		fm.Title = fm.ID
	}
	fm.Actions = parseActions(actionLines)
	fm.ImportedFrom = file
	validText(&fm)
	return New(fm, body), rep, nil
}

// validText replaces the bytes of the front matter's text that are not
// UTF-8: YAML would write such a string as base64 and read back base64.
func validText(fm *FrontMatter) {
	fix := func(s *string) { *s = strings.ToValidUTF8(*s, "\uFFFD") }
	for _, s := range []*string{&fm.ID, &fm.Title, &fm.Owner, &fm.Facilitator, &fm.DeclaredBy, &fm.ImportedFrom} {
		fix(s)
	}
	for i := range fm.Services {
		fix(&fm.Services[i])
	}
	for i := range fm.Actions {
		a := &fm.Actions[i]
		fix(&a.Title)
		fix(&a.Owner)
		fix(&a.Ticket)
	}
}

// foreignKeys maps front matter keys of other tools (icco/postmortems,
// PagerDuty's, Jekyll sites) to fields.
var foreignKeys = map[string]string{
	"start_time": "started", "end_time": "resolved", "started_at": "started", "resolved_at": "resolved", "detected_at": "detected",
	"mitigated_at": "mitigated", "acknowledged_at": "acknowledged", "incident_date": "started",
	"incident_id": "id", "commander": "facilitator", "sev": "severity",
}

type foreign struct {
	values map[string]string
	body   []byte
}

// splitForeign reads another tool's front matter (after its opening line)
// into strings: scalars as they are, lists joined with commas.
func splitForeign(file string, rest []byte) (foreign, error) {
	yml, end := closeFrontMatter(rest)
	if end < 0 {
		return foreign{}, Problem{File: file, Line: 1, Field: "front matter", Msg: "not closed: no --- line after the YAML"}
	}
	f := foreign{values: map[string]string{}, body: rest[end:]}
	var root yaml.Node
	if err := yaml.Unmarshal(yml, &root); err != nil {
		return f, syntaxProblem(file, 2, err)
	}
	if len(root.Content) == 0 {
		return f, nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return f, Problem{File: file, Line: 2, Field: "front matter", Msg: "want a mapping"}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i].Value, m.Content[i+1]
		switch v.Kind {
		case yaml.ScalarNode:
			f.values[k] = v.Value
		case yaml.SequenceNode:
			var parts []string
			for _, it := range v.Content {
				if it.Kind == yaml.ScalarNode {
					parts = append(parts, it.Value)
				}
			}
			f.values[k] = strings.Join(parts, ", ")
		}
	}
	return f, nil
}

// foreignStatus maps other templates' document statuses to oncall's.
var foreignStatus = map[string]Status{
	"draft": StatusDraft, "in progress": StatusDraft, "wip": StatusDraft, "open": StatusDraft, "investigating": StatusDraft,
	"in review": StatusInReview, "review": StatusInReview, "under review": StatusInReview, "pending review": StatusInReview,
	"reviewed": StatusReviewed, "complete": StatusReviewed, "completed": StatusReviewed, "final": StatusReviewed, "published": StatusReviewed, "approved": StatusReviewed, "done": StatusReviewed,
	"closed": StatusClosed, "resolved": StatusClosed, "archived": StatusClosed,
}

func applyMeta(fm *FrontMatter, meta map[string]string, rep *ImportReport) {
	ignore := func(field, v string) { rep.Ignored = append(rep.Ignored, fmt.Sprintf("%s %q", field, v)) }
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := strings.TrimSpace(meta[k])
		if v == "" {
			continue
		}
		switch k {
		case "id":
			fm.ID = v
			var n int64
			if _, err := fmt.Sscanf(strings.ToUpper(v), "INC-%d", &n); err == nil {
				fm.Incident = n
			}
		case "title":
			fm.Title = v
		case "owner":
			first, _, _ := strings.Cut(v, ",")
			fm.Owner = strings.TrimPrefix(strings.TrimSpace(first), "@")
		case "facilitator":
			fm.Facilitator = strings.TrimPrefix(v, "@")
		case "status":
			// "Complete, action items in progress" is complete.
			head, _, _ := strings.Cut(strings.NewReplacer(";", ",", "(", ",", " - ", ",").Replace(v), ",")
			if s, ok := foreignStatus[normHeading(v)]; ok {
				fm.Status = s
			} else if s, ok := foreignStatus[normHeading(head)]; ok {
				fm.Status = s
			} else if s, err := ParseStatus(v); err == nil {
				fm.Status = s
			} else {
				ignore(k, v)
			}
		case "severity":
			if s, err := incidents.ParseSeverity(strings.TrimPrefix(strings.ToUpper(v), "P")); err == nil {
				fm.Severity = s
			} else {
				ignore(k, v)
			}
		case "services":
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					fm.Services = append(fm.Services, s)
				}
			}
		case "started", "detected", "acknowledged", "mitigated", "resolved":
			t, err := ParseTime(v)
			if err != nil {
				ignore(k, v)
				continue
			}
			switch k {
			case "started":
				fm.Started = t
			case "detected":
				fm.Detected = t
			case "acknowledged":
				fm.Acknowledged = t
			case "mitigated":
				fm.Mitigated = t
			case "resolved":
				fm.Resolved = t
			}
		}
	}
}

// parseActions reads an action items section: a Markdown table (columns
// found by their headers) or a task list.
func parseActions(lines []string) []Action {
	var out []Action
	var cols map[string]int
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "|") {
			cells := mdtable.Cells(t)
			if cols == nil {
				// A header is followed by its |---| line.
				if i+1 < len(lines) && isRule(lines[i+1]) {
					cols = columns(cells)
				}
				continue
			}
			if isRule(t) {
				continue
			}
			get := func(name string) string {
				if c, ok := cols[name]; ok && c < len(cells) {
					return cells[c]
				}
				return ""
			}
			a := Action{Title: get("title"), Owner: strings.TrimPrefix(get("owner"), "@"), Ticket: get("ticket"), Status: ActionOpen}
			if a.Title == "" || strings.Trim(a.Title, "-_* ") == "" {
				continue
			}
			if d, err := ParseDate(get("due")); err == nil {
				a.Due = d
			}
			if s, err := ParseActionStatus(get("status")); err == nil {
				a.Status = s
			}
			out = append(out, a)
			continue
		}
		cols = nil
		for _, box := range []struct {
			prefix string
			status ActionStatus
		}{{"- [ ] ", ActionOpen}, {"* [ ] ", ActionOpen}, {"- [x] ", ActionDone}, {"- [X] ", ActionDone}, {"* [x] ", ActionDone}} {
			if title, ok := strings.CutPrefix(t, box.prefix); ok && strings.TrimSpace(title) != "" {
				out = append(out, Action{Title: strings.TrimSpace(title), Status: box.status})
			}
		}
	}
	return out
}

func isRule(l string) bool {
	t := strings.TrimSpace(l)
	return strings.HasPrefix(t, "|") && strings.Trim(t, "|-: ") == "" && strings.Contains(t, "-")
}

// columnNames maps action table headers to fields.
var columnNames = map[string]string{
	"action": "title", "action item": "title", "item": "title", "task": "title", "description": "title", "title": "title", "what": "title", "corrective action": "title",
	"owner": "owner", "assignee": "owner", "who": "owner", "responsible": "owner", "assigned to": "owner",
	"due": "due", "due date": "due", "deadline": "due", "date": "due", "by when": "due",
	"ticket": "ticket", "bug": "ticket", "issue": "ticket", "link": "ticket", "jira": "ticket", "tracking": "ticket", "tracking bug": "ticket",
	"status": "status", "state": "status",
}

func columns(header []string) map[string]int {
	cols := map[string]int{}
	for i, h := range header {
		if f, ok := columnNames[normHeading(h)]; ok {
			if _, dup := cols[f]; !dup {
				cols[f] = i
			}
		}
	}
	if _, ok := cols["title"]; !ok {
		cols["title"] = 0
	}
	return cols
}
