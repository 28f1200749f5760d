package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/oncallhq/oncall/checklist"
)

// icon is the status as GitHub renders it.
func icon(s checklist.Status) string {
	switch s {
	case checklist.Pass:
		return "✅"
	case checklist.Warn:
		return "⚠️"
	case checklist.NA:
		return "➖"
	case checklist.Waived:
		return "🔕"
	case checklist.Fail:
		return "❌"
	case checklist.Error:
		return "💥"
	}
	return "⚪"
}

// Markdown writes the run for an issue or a pull request: the verdict, a
// task list by category (checked when the check holds), then the details
// of every check that does not pass.
func Markdown(w io.Writer, run checklist.Run) error {
	fmt.Fprintf(w, "## %s: %s — %s\n\n", md(run.Checklist), md(run.Title), md(run.Service))
	fmt.Fprintf(w, "**%s** · %s · checked %s\n\n", md(Verdict(run)), md(countLine(run)), run.At.UTC().Format("2006-01-02 15:04 UTC"))
	for _, cat := range categories(run) {
		title := cat
		if title == "" {
			title = "other"
		}
		fmt.Fprintf(w, "### %s\n\n", md(title))
		for _, r := range run.Results {
			if r.Category != cat {
				continue
			}
			box := " "
			if r.Status.Holds() {
				box = "x"
			}
			req := ""
			if !r.Required {
				req = ", not required"
			}
			fmt.Fprintf(w, "- [%s] %s **%s** (`%s`, %s%s): %s\n", box, icon(r.Status), md(r.Title), code(r.Check), md(r.Level), req, md(r.Status.Label()+" — "+r.Summary))
		}
		fmt.Fprintln(w)
	}
	var open []checklist.Result
	for _, r := range run.Results {
		if r.Status != checklist.Pass {
			open = append(open, r)
		}
	}
	if len(open) == 0 {
		return nil
	}
	fmt.Fprintf(w, "### Details\n\n")
	for _, r := range open {
		fmt.Fprintf(w, "#### %s %s (`%s`)\n\n", icon(r.Status), md(r.Title), code(r.Check))
		listed := len(r.Links)+len(r.Details) > 0 || r.EvidenceURL != ""
		for _, l := range r.Links {
			fmt.Fprintf(w, "- %s %s: %s\n", icon(l.Status), md(l.Name), md(l.Detail))
		}
		for _, d := range r.Details {
			fmt.Fprintf(w, "- %s\n", md(d))
		}
		if r.EvidenceURL != "" {
			fmt.Fprintf(w, "- evidence: <%s>\n", strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20").Replace(r.EvidenceURL))
		}
		if r.Remediation != "" && r.Status != checklist.Waived {
			if listed {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "**To fix:** %s\n", md(r.Remediation))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// md makes outside text safe inside a Markdown line: no line breaks, no
// HTML, and emphasis, links, code and table marks taken literally.
func md(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '!':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// code makes outside text safe inside a code span.
func code(s string) string { return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "`", "'") }
