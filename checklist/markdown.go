package checklist

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/mdtable"
)

var (
	headingRE   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	taskRE      = regexp.MustCompile(`^(\s*)[-*+]\s+\[([ xX])\]\s+(.*)$`)
	linkRE      = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)[^)]*\)`)
	sepCellRE   = regexp.MustCompile(`^:?-{1,}:?$`)
	levelTagRE  = regexp.MustCompile(`(?i)\s*[(\[]\s*(?:level\s*[:=]?\s*)?([a-z0-9_-]+)\s*[)\]]\s*$`)
	emojiCodeRE = regexp.MustCompile(`:[a-z0-9_+-]+:`)
)

// priorityWords map what tables write in a level column to a position
// among three levels: the most critical checks are required first.
var priorityWords = map[string]int{
	"critical": 0, "must": 0, "must have": 0, "required": 0, "high": 0, "p1": 0, "blocker": 0,
	"should": 1, "should have": 1, "recommended": 1, "medium": 1, "p2": 1,
	"nice to have": 2, "could": 2, "could have": 2, "optional": 2, "low": 2, "p3": 2, "nice": 2,
}

// ImportMarkdown reads a Markdown checklist into a checklist named name:
// GitHub task lists (`- [ ] Check — description`, under headings that
// become categories, with an optional trailing "(level)"), or tables with
// a name column and either a level column or one column per level marked
// where the check is required. Every check becomes an attestation: the
// import cannot know which could be probed.
func ImportMarkdown(name string, src []byte) (Checklist, error) {
	if !nameRE.MatchString(name) {
		return Checklist{}, fmt.Errorf("name %q: a checklist name is lower-case letters, digits, '-' or '_'", name)
	}
	cl := Checklist{Name: name, Levels: slices.Clone(DefaultLevels)}
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	category := ""
	var tableLevels []string // levels named by a table's columns, in column order
	type pending struct {
		title, desc, level, category string
		line                         int
	}
	var items []pending
	inFence := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			text := plain(m[2])
			if len(m[1]) == 1 && cl.Title == "" {
				cl.Title = text
				continue
			}
			category = text
			continue
		}
		if m := taskRE.FindStringSubmatch(line); m != nil {
			title, desc := splitTitle(plain(m[3]))
			level := ""
			if lm := levelTagRE.FindStringSubmatch(title); lm != nil {
				level = strings.ToLower(lm[1])
				title = strings.TrimSpace(title[:len(title)-len(lm[0])])
			} else if lm := levelTagRE.FindStringSubmatch(desc); lm != nil {
				level = strings.ToLower(lm[1])
				desc = strings.TrimSpace(desc[:len(desc)-len(lm[0])])
			}
			if title != "" {
				items = append(items, pending{title: title, desc: desc, level: level, category: category, line: i + 1})
			}
			continue
		}
		if isTableRow(trimmed) && i+1 < len(lines) && isSeparator(strings.TrimSpace(lines[i+1])) {
			header := mdtable.Cells(trimmed)
			nameCol, descCol, levelCol, levelCols := tableColumns(header)
			if len(levelCols) > 0 {
				tableLevels = tableLevels[:0]
				for _, c := range levelCols {
					tableLevels = append(tableLevels, levelName(header[c]))
				}
			}
			i += 2
			for ; i < len(lines) && isTableRow(strings.TrimSpace(lines[i])); i++ {
				row := mdtable.Cells(strings.TrimSpace(lines[i]))
				get := func(c int) string {
					if c < 0 || c >= len(row) {
						return ""
					}
					return plain(row[c])
				}
				it := pending{title: get(nameCol), desc: get(descCol), category: category, line: i + 1}
				switch {
				case levelCol >= 0:
					it.level = strings.ToLower(get(levelCol))
				case len(levelCols) > 0:
					for k, c := range levelCols {
						if c < len(row) && marked(row[c]) {
							it.level = tableLevels[k]
							break
						}
					}
				}
				if it.title != "" {
					items = append(items, it)
				}
			}
			i--
		}
	}
	if len(items) == 0 {
		return Checklist{}, errors.New("no checklist items: want task list items (- [ ] ...) or a table with a name column")
	}
	if len(tableLevels) > 0 {
		cl.Levels = nil
		for _, l := range tableLevels {
			if !slices.Contains(cl.Levels, l) {
				cl.Levels = append(cl.Levels, l)
			}
		}
	}
	// A level column of our own level names keeps them; priority words map
	// onto the levels; anything else becomes a level of its own, in order.
	custom := []string{}
	for _, it := range items {
		l := it.level
		if levelName(l) == "" || slices.Contains(cl.Levels, l) {
			continue
		}
		if _, ok := priorityWords[l]; ok {
			continue
		}
		if !slices.Contains(custom, levelName(l)) {
			custom = append(custom, levelName(l))
		}
	}
	if len(custom) > 0 && len(tableLevels) == 0 {
		cl.Levels = custom
	}
	if cl.Title == "" {
		cl.Title = name
	}
	cl.DefaultLevel = cl.Levels[0]
	ids := map[string]int{}
	for _, it := range items {
		level := cl.Levels[0]
		switch l := it.level; {
		case l == "":
		case slices.Contains(cl.Levels, l):
			level = l
		case slices.Contains(cl.Levels, levelName(l)):
			level = levelName(l)
		default:
			if p, ok := priorityWords[l]; ok {
				level = cl.Levels[min(p, len(cl.Levels)-1)]
			}
		}
		id := slug(it.title)
		if id == "" {
			id = "check"
		}
		ids[id]++
		if n := ids[id]; n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		cl.Checks = append(cl.Checks, Check{ID: id, Title: it.title, Category: strings.ToLower(slug(it.category)), Level: level,
			Kind: KindAttestation, Rationale: it.desc, Line: it.line})
	}
	return cl, nil
}

// plain strips Markdown emphasis, links (keeping their text), inline code
// marks, emoji shortcodes and HTML tags from s.
func plain(s string) string {
	s = linkRE.ReplaceAllString(s, "$1")
	s = emojiCodeRE.ReplaceAllString(s, "")
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
		case inTag:
		case r == '*' || r == '`':
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == '\uFE0F' || r == '\u200D':
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// splitTitle splits "Name — description" (or " - ", ": ") into its parts.
func splitTitle(s string) (string, string) {
	for _, sep := range []string{" — ", " – ", " - ", ": "} {
		if t, d, ok := strings.Cut(s, sep); ok && strings.TrimSpace(t) != "" {
			return strings.TrimSpace(t), strings.TrimSpace(d)
		}
	}
	return s, ""
}

func isTableRow(s string) bool { return strings.HasPrefix(s, "|") && strings.Count(s, "|") >= 2 }

func isSeparator(s string) bool {
	if !isTableRow(s) {
		return false
	}
	for _, c := range mdtable.Cells(s) {
		if !sepCellRE.MatchString(strings.TrimSpace(c)) {
			return false
		}
	}
	return true
}

// tableColumns finds the name, description and level columns of a
// header, or the columns that are levels of their own ("Level A").
func tableColumns(header []string) (name, desc, level int, levels []int) {
	name, desc, level = -1, -1, -1
	for i, h := range header {
		l := strings.ToLower(plain(h))
		switch {
		case name < 0 && slices.Contains([]string{"name", "check", "check name", "item", "title", "requirement", "control"}, l):
			name = i
		case desc < 0 && (strings.Contains(l, "description") || slices.Contains([]string{"details", "comment", "why", "notes"}, l)):
			desc = i
		case level < 0 && slices.Contains([]string{"level", "tier", "severity", "priority"}, l):
			level = i
		case (strings.HasPrefix(l, "level ") || slices.Contains(DefaultLevels, l)) && levelName(h) != "":
			levels = append(levels, i)
		}
	}
	if name < 0 {
		name = 0
	}
	if len(levels) > 0 {
		level = -1
	}
	return name, desc, level, levels
}

// levelName makes a level name of a header or cell: "Level A" → "a".
func levelName(s string) string {
	l := strings.ToLower(plain(s))
	l = strings.TrimPrefix(l, "level ")
	return slug(l)
}

// marked reports whether a cell marks its level: ✅, ✔, x, yes, required.
func marked(cell string) bool {
	c := strings.ToLower(strings.TrimSpace(cell))
	if c == "" {
		return false
	}
	for _, m := range []string{":white_check_mark:", ":heavy_check_mark:", "✅", "✔", "☑", "✓"} {
		if strings.Contains(c, m) {
			return true
		}
	}
	return slices.Contains([]string{"x", "yes", "y", "required", "true"}, c)
}

// slug makes an id of a title: lower case, words joined by '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// YAML writes the checklist as a checklist file that Parse reads back.
func (cl Checklist) YAML() ([]byte, error) {
	type check struct {
		ID          string            `yaml:"id"`
		Title       string            `yaml:"title"`
		Category    string            `yaml:"category,omitempty"`
		Level       string            `yaml:"level"`
		Kind        Kind              `yaml:"kind"`
		Probe       string            `yaml:"probe,omitempty"`
		Params      map[string]string `yaml:"params,omitempty"`
		Attestable  bool              `yaml:"attestable,omitempty"`
		Evidence    Evidence          `yaml:"evidence,omitempty"`
		ValidFor    string            `yaml:"valid_for,omitempty"`
		Rationale   string            `yaml:"rationale,omitempty"`
		Remediation string            `yaml:"remediation,omitempty"`
	}
	type file struct {
		Name         string         `yaml:"name"`
		Title        string         `yaml:"title,omitempty"`
		Description  string         `yaml:"description,omitempty"`
		Levels       []string       `yaml:"levels"`
		DefaultLevel string         `yaml:"default_level,omitempty"`
		Tiers        map[int]string `yaml:"tiers,omitempty"`
		Checks       []check        `yaml:"checks"`
	}
	f := file{Name: cl.Name, Title: cl.Title, Description: cl.Description, Levels: cl.Levels, DefaultLevel: cl.DefaultLevel, Tiers: cl.Tiers}
	for _, c := range cl.Checks {
		vf := ""
		if c.ValidFor > 0 {
			vf = formatDuration(c.ValidFor)
		}
		f.Checks = append(f.Checks, check{ID: c.ID, Title: c.Title, Category: c.Category, Level: c.Level, Kind: c.Kind, Probe: c.Probe,
			Params: c.Params, Attestable: c.Attestable, Evidence: c.Evidence, ValidFor: vf, Rationale: c.Rationale, Remediation: c.Remediation})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// formatDuration writes d in days when it is whole days.
func formatDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}
