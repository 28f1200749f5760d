package main

// The checklist records people and CI jobs add: attestations, waivers
// and results reported from outside.

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/termtext"
)

// checklistRecordFlags are the flags every record command shares.
type checklistRecordFlags struct {
	service, expires, output string
}

func (f *checklistRecordFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.service, "service", "", "the catalogue service (required)")
	c.Flags().StringVarP(&f.output, "output", "o", "table", "table or json")
}

// addRecord validates req against the local checklists and catalogue
// (so that an unknown check or service is refused with the valid ones
// even with no server) and records it.
func (a *cli) addRecord(cmd *cobra.Command, name string, f checklistRecordFlags, req checklist.Request) error {
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("--output %q: want table or json", f.output)
	}
	ctx := cmd.Context()
	cfg, cls, err := a.checklistEnv()
	if err != nil {
		return err
	}
	cl, err := checklist.Find(cls, name)
	if err != nil {
		return err
	}
	req.Service, req.By = f.service, cfg.User
	if req.Service == "" {
		return fmt.Errorf("--service: name the service (%s)", strings.Join(catalogNames(cfg.Catalog()), ", "))
	}
	if _, err := cl.Record(cfg.Catalog(), req, checklistNow()); err != nil {
		return err
	}
	be, err := openChecklistBackend(ctx, cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	rec, err := be.AddRecord(ctx, cl, req)
	if err != nil {
		return err
	}
	if f.output == "json" {
		return writeJSON(cmd.OutOrStdout(), rec)
	}
	verb := map[checklist.RecordKind]string{checklist.RecordAttestation: "attested", checklist.RecordWaiver: "waived", checklist.RecordResult: "reported " + rec.Status.Label() + " for"}[rec.Kind]
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s / %s for %s as %s, until %s (in %s)\n", verb, termtext.Clean(cl.Name), termtext.Clean(rec.Check),
		termtext.Clean(rec.Service), termtext.Clean(rec.By), rec.Expires.UTC().Format("2006-01-02"), be.Where())
	return nil
}

func (a *cli) checklistAttestCmd() *cobra.Command {
	var f checklistRecordFlags
	var evidence, justification string
	var na bool
	c := &cobra.Command{
		Use:   "attest NAME CHECK --service SERVICE [--evidence URL] [--expires 90d]",
		Short: "Attest that a check is met (or does not apply, --na) for a service",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := checklist.Request{Kind: checklist.RecordAttestation, Check: args[1], EvidenceURL: evidence, Text: justification, ExpiresIn: f.expires, Source: "cli"}
			if na {
				req.Status = checklist.NA
			}
			return a.addRecord(cmd, args[0], f, req)
		},
	}
	f.add(c)
	c.Flags().StringVar(&evidence, "evidence", "", "a URL that shows it (required by some checks)")
	c.Flags().StringVar(&justification, "justification", "", "why it holds (required with --na)")
	c.Flags().StringVar(&f.expires, "expires", "", "how long the attestation holds, e.g. 90d, or until a date, 2027-01-31 (default: the check's valid_for)")
	c.Flags().BoolVar(&na, "na", false, "the check does not apply to the service")
	return c
}

func (a *cli) checklistWaiveCmd() *cobra.Command {
	var f checklistRecordFlags
	var reason string
	c := &cobra.Command{
		Use:   "waive NAME CHECK --service SERVICE --reason TEXT --expires 30d",
		Short: "Waive a check that is not met, for a reason, until the waiver expires",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.addRecord(cmd, args[0], f, checklist.Request{Kind: checklist.RecordWaiver, Check: args[1], Text: reason, ExpiresIn: f.expires, Source: "cli"})
		},
	}
	f.add(c)
	c.Flags().StringVar(&reason, "reason", "", "why it is waived (required)")
	c.Flags().StringVar(&f.expires, "expires", "", "how long the waiver holds, e.g. 30d, or until a date, 2027-01-31 (required)")
	return c
}

func (a *cli) checklistReportCmd() *cobra.Command {
	var f checklistRecordFlags
	var status, summary, link, source string
	c := &cobra.Command{
		Use:     "report NAME CHECK --service SERVICE --status pass|fail|warn|n/a|error",
		Aliases: []string{"push"},
		Short:   "Push the result of an external check (what a CI job does: security audit requested)",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := checklist.ParseStatus(status)
			if err != nil {
				return fmt.Errorf("--status: %w", err)
			}
			return a.addRecord(cmd, args[0], f, checklist.Request{Kind: checklist.RecordResult, Check: args[1], Status: st, Text: summary,
				EvidenceURL: link, ExpiresIn: f.expires, Source: source})
		},
	}
	f.add(c)
	c.Flags().StringVar(&status, "status", "", "pass, fail, warn, n/a or error (required)")
	c.Flags().StringVar(&summary, "summary", "", "what was found")
	c.Flags().StringVar(&link, "url", "", "where the result is (a ticket, a CI job)")
	c.Flags().StringVar(&source, "source", "cli", "what reports it (a CI job's name)")
	c.Flags().StringVar(&f.expires, "expires", "", "how long the result holds, e.g. 90d or 2027-01-31 (default: the check's valid_for)")
	return c
}
