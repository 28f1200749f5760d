// Package report writes a checklist run in the formats people and tools
// read: text for a terminal, JSON, JUnit XML and SARIF 2.1.0 for CI, and
// Markdown for an issue or a pull request (where the review is recorded).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/termtext"
)

// Formats are the names Write takes.
var Formats = []string{"text", "json", "junit", "sarif", "markdown"}

// Write writes run in the named format.
func Write(w io.Writer, format string, run checklist.Run) error {
	switch format {
	case "text", "":
		return Text(w, run)
	case "json":
		return JSON(w, run)
	case "junit":
		return JUnit(w, run)
	case "sarif":
		return SARIF(w, run)
	case "markdown", "md":
		return Markdown(w, run)
	}
	return fmt.Errorf("--output %q: want %s", format, strings.Join(Formats, ", "))
}

// JSON writes the run as indented JSON.
func JSON(w io.Writer, run checklist.Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(run)
}

// mark is the status as a terminal shows it.
func mark(s checklist.Status) string {
	switch s {
	case checklist.Pass:
		return "pass"
	case checklist.Warn:
		return "warn"
	case checklist.NA:
		return "n/a"
	case checklist.Waived:
		return "waived"
	case checklist.Fail:
		return "FAIL"
	case checklist.Error:
		return "ERROR"
	}
	return "MISSING"
}

// fromALink reports whether the result's summary is one of its links
// (which are shown anyway).
func fromALink(r checklist.Result) bool {
	for _, l := range r.Links {
		if r.Summary == l.Name+": "+l.Detail {
			return true
		}
	}
	return false
}

// linkMark is a link's status: a link not checked is a dash.
func linkMark(s checklist.Status) string {
	if s == checklist.NotReported {
		return "-"
	}
	return mark(s)
}

// Verdict is the one line that says how the run came out.
func Verdict(run checklist.Run) string {
	achieved := run.Achieved
	if achieved == "" {
		achieved = "no level"
	}
	var verdict string
	switch run.Outcome {
	case checklist.OutcomePass:
		verdict = "PASS"
	case checklist.OutcomeError:
		verdict = "ERROR: a probe could not run"
	default:
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s required (%s): %s, achieved %s", run.Level, run.LevelReason, verdict, achieved)
}

// Blocking lists the required checks that keep the level from passing.
func Blocking(run checklist.Run) []checklist.Result {
	var out []checklist.Result
	for _, r := range run.Results {
		if r.Required && !r.Status.Holds() {
			out = append(out, r)
		}
	}
	return out
}

// countLine is "7 pass, 1 fail, ..." in a fixed order.
func countLine(run checklist.Run) string {
	counts := run.Counts()
	var parts []string
	for _, s := range []checklist.Status{checklist.Pass, checklist.Warn, checklist.NA, checklist.Waived, checklist.Fail, checklist.NotReported, checklist.Error} {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s.Label()))
		}
	}
	return strings.Join(parts, ", ")
}

// Text writes the run for a terminal: a line per check with its links and
// details, what to do about the ones that do not hold, and the verdict.
func Text(w io.Writer, run checklist.Run) error {
	fmt.Fprintf(w, "%s (%s) for %s\n\n", termtext.Clean(run.Checklist), termtext.Clean(run.Title), termtext.Clean(run.Service))
	width := 0
	for _, r := range run.Results {
		width = max(width, len(r.Check))
	}
	for _, r := range run.Results {
		req := ""
		if !r.Required {
			req = " (not required)"
		}
		fmt.Fprintf(w, "  %-7s %-*s  %s [%s%s]\n", mark(r.Status), width, termtext.Clean(r.Check), termtext.Clean(r.Title), termtext.Clean(r.Level), req)
		indent := strings.Repeat(" ", 10)
		if !fromALink(r) {
			fmt.Fprintf(w, "%s%s\n", indent, termtext.Clean(r.Summary))
		}
		for _, l := range r.Links {
			fmt.Fprintf(w, "%s%-7s %s: %s\n", indent, linkMark(l.Status), termtext.Clean(l.Name), termtext.Clean(l.Detail))
		}
		for _, d := range r.Details {
			fmt.Fprintf(w, "%s%s\n", indent, termtext.Clean(d))
		}
		if r.Remediation != "" && r.Status != checklist.Waived {
			fmt.Fprintf(w, "%sto fix: %s\n", indent, termtext.Clean(r.Remediation))
		}
	}
	fmt.Fprintf(w, "\n%s\n%s\n", Verdict(run), countLine(run))
	if b := Blocking(run); len(b) > 0 {
		ids := make([]string, len(b))
		for i, r := range b {
			ids[i] = termtext.Clean(r.Check) + " (" + r.Status.Label() + ")"
		}
		fmt.Fprintf(w, "blocking: %s\n", strings.Join(ids, ", "))
	}
	return nil
}

// categories lists the categories of the run in the order they appear.
func categories(run checklist.Run) []string {
	var out []string
	for _, r := range run.Results {
		if !slices.Contains(out, r.Category) {
			out = append(out, r.Category)
		}
	}
	return out
}
