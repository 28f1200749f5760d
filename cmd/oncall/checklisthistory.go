package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/termtext"
	"github.com/spf13/cobra"
)

// checklistHistoryCmd is `oncall checklist history`: a service's runs, what
// changed between them, and the records that count now.
func (a *cli) checklistHistoryCmd() *cobra.Command {
	var service, name, output string
	var limit int
	c := &cobra.Command{
		Use:   "history --service SERVICE [--checklist NAME]",
		Short: "Show a service's runs, newest first, with what changed since the run before, and its current records",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			ctx := cmd.Context()
			cfg, cls, err := a.checklistEnv()
			if err != nil {
				return err
			}
			if service == "" {
				return fmt.Errorf("--service: name the service (%s)", strings.Join(catalogNames(cfg.Catalog()), ", "))
			}
			if _, err := checklist.Service(cfg.Catalog(), service); err != nil {
				return err
			}
			if name != "" {
				cl, err := checklist.Find(cls, name)
				if err != nil {
					return err
				}
				cls = []checklist.Checklist{cl}
			}
			be, err := openChecklistBackend(ctx, cfg)
			if err != nil {
				return err
			}
			defer be.Close()
			h := checklistHistory{Service: service}
			for _, cl := range cls {
				runs, err := be.Runs(ctx, cl.Name, service, limit+1)
				if err != nil {
					return err
				}
				recs, err := be.Records(ctx, cl.Name, service)
				if err != nil {
					return err
				}
				h.Runs = append(h.Runs, runs...)
				now := checklistNow()
				for _, r := range recs {
					if r.Current(now) {
						h.Records = append(h.Records, r)
					}
				}
			}
			slices.SortStableFunc(h.Runs, func(a, b checklist.Run) int { return b.At.Compare(a.At) })
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), h)
			}
			return printChecklistHistory(cmd.OutOrStdout(), h, limit, checklistNow())
		},
	}
	c.Flags().StringVar(&service, "service", "", "the catalogue service (required)")
	c.Flags().StringVar(&name, "checklist", "", "one checklist's runs only")
	c.Flags().IntVar(&limit, "limit", 20, "how many runs per checklist")
	c.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return c
}

// checklistHistory is a service's runs and current records.
type checklistHistory struct {
	Service string             `json:"service"`
	Runs    []checklist.Run    `json:"runs"`
	Records []checklist.Record `json:"records"`
}

// checklistChanges lists the checks whose status differs from the previous run's.
func checklistChanges(run, prev checklist.Run) []string {
	var out []string
	for _, r := range run.Results {
		p, ok := prev.Result(r.Check)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s new: %s", r.Check, r.Status.Label()))
		case p.Status != r.Status:
			out = append(out, fmt.Sprintf("%s %s → %s", r.Check, p.Status.Label(), r.Status.Label()))
		}
	}
	return out
}

func printChecklistHistory(w io.Writer, h checklistHistory, limit int, now time.Time) error {
	if len(h.Runs) == 0 {
		fmt.Fprintf(w, "no runs for %s yet: oncall checklist NAME --service %s\n", termtext.Clean(h.Service), termtext.Clean(h.Service))
	}
	shown := map[string]int{}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(h.Runs) > 0 {
		fmt.Fprintln(tw, "WHEN\tCHECKLIST\tREQUIRED\tACHIEVED\tOUTCOME\tBY\tCHANGED")
	}
	for i, run := range h.Runs {
		if shown[run.Checklist] >= limit {
			continue
		}
		shown[run.Checklist]++
		var prev *checklist.Run
		for j := i + 1; j < len(h.Runs); j++ {
			if h.Runs[j].Checklist == run.Checklist {
				prev = &h.Runs[j]
				break
			}
		}
		changed := "first run"
		if prev != nil {
			changed = strings.Join(checklistChanges(run, *prev), ", ")
			if changed == "" {
				changed = "-"
			}
		}
		achieved := run.Achieved
		if achieved == "" {
			achieved = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", run.At.UTC().Format("2006-01-02 15:04"), termtext.Clean(run.Checklist), termtext.Clean(run.Level),
			termtext.Clean(achieved), run.Outcome, termtext.Clean(run.By), termtext.Clean(changed))
	}
	tw.Flush()
	if len(h.Records) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\ncurrent records:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECKLIST\tCHECK\tKIND\tSTATUS\tBY\tEXPIRES\tTEXT")
	for _, r := range h.Records {
		exp := r.Expires.UTC().Format("2006-01-02")
		if left := r.Expires.Sub(now); left < checklist.ExpiringWithin {
			exp += fmt.Sprintf(" (in %dd)", int(left/(24*time.Hour)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", termtext.Clean(r.Checklist), termtext.Clean(r.Check), r.Kind, r.Status.Label(), termtext.Clean(r.By), exp, termtext.Clean(r.Text))
	}
	return tw.Flush()
}
