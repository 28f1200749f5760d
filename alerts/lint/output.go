package lint

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/oncallhq/oncall/termtext"
)

// WriteTable writes the findings as a table (location, id, severity, rule,
// message), then one line of totals and one per skipped set of checks.
// Text from the rule files is made safe for a terminal.
func (r Report) WriteTable(w io.Writer) error {
	if len(r.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOCATION\tID\tSEVERITY\tRULE\tMESSAGE")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\t%s\n", termtext.Clean(f.File), f.Line, f.ID, f.Severity, termtext.Clean(f.Rule), termtext.Clean(f.Message))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	s := r.Summary
	var totals string
	switch {
	case s.Errors == 0 && s.Warnings == 0:
		totals = "no problems"
	default:
		totals = plural(s.Errors, "error") + ", " + plural(s.Warnings, "warning")
	}
	fmt.Fprintf(w, "%s in %s of %s\n", totals, plural(s.Rules, "rule"), plural(s.Files, "file"))
	if s.Source != "" {
		fmt.Fprintf(w, "series checked at %s\n", termtext.Clean(s.Source))
	}
	for _, sk := range s.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", strings.Join(sk.Checks, ", "), termtext.Clean(sk.Reason))
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
