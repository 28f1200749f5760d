package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/checklist/announce"
	"github.com/oncallhq/oncall/checklist/report"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/termtext"
)

// checklistNow is the clock of the checklist commands (tests set it).
var checklistNow = time.Now

const checklistLong = `Production-readiness checklists, proven by probes wherever oncall can prove
them: the built-in prod checklist (Heroku's ten checks) and custom ones, one
YAML file each in checklists.dir.

  oncall checklist prod --service NAME    run it (the same as: oncall checklist run prod ...)

A run probes concurrently (the service's HTTPS, the chain from "it is down"
to "a person is paged" through oncall's own rules, routes and schedules, its
logs, its runbook, staging, drills), reads the attestations, waivers and
pushed results recorded for the service, and stores the run. Exit status: 0
the required level passes, 1 a required check fails or is not reported, 2 a
required probe could not run (and nothing required fails).

Where runs and records live: on the oncall server when one answers
(server.url, or an oncall on server.listen); otherwise in the store of the
state directory, opened directly (SQLite takes turns with any process that
has it open).`

// checklistCmd is `oncall checklist`: a group of subcommands, and
// `oncall checklist NAME` runs the named checklist.
func (a *cli) checklistCmd() *cobra.Command {
	var ro checklistRunOptions
	c := &cobra.Command{
		Use:                        "checklist [NAME --service SERVICE]",
		SuggestionsMinimumDistance: 2,
		Short:                      "Production-readiness checklists, proven by probes (oncall checklist prod --service NAME)",
		Long:                       checklistLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("oncall checklist NAME takes one checklist name, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			err := a.runChecklist(cmd, args[0], ro)
			var u *checklist.Unknown
			if errors.As(err, &u) && u.What == "checklist" {
				msg := err.Error()
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += fmt.Sprintf("; did you mean %q?", s[0])
				}
				var names []string
				for _, sub := range cmd.Commands() {
					if sub.IsAvailableCommand() {
						names = append(names, sub.Name())
					}
				}
				return fmt.Errorf("%s (commands: %s)", msg, strings.Join(names, ", "))
			}
			return err
		},
	}
	ro.flags(c)
	run := &cobra.Command{
		Use:   "run NAME --service SERVICE",
		Short: "Run a checklist for a service: probe, read the records, report, store the run",
		Long:  checklistLong,
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.runChecklist(cmd, args[0], ro) },
	}
	ro.flags(run)
	c.AddCommand(a.checklistListCmd(), a.checklistExplainCmd(), run, a.checklistAttestCmd(), a.checklistWaiveCmd(),
		a.checklistReportCmd(), a.checklistHistoryCmd(), a.checklistImportCmd(), a.checklistAnnounceCmd())
	return c
}

// checklistRunOptions are the flags of a run.
type checklistRunOptions struct {
	service, level, output string
	noRecord               bool
	timeout                time.Duration
}

func (o *checklistRunOptions) flags(c *cobra.Command) {
	c.Flags().StringVar(&o.service, "service", "", "the catalogue service to check (required)")
	c.Flags().StringVar(&o.level, "level", "", "the level to require (default: by the service's tier, else the checklist's default)")
	c.Flags().StringVarP(&o.output, "output", "o", "", "report format: text, json, junit, sarif or markdown (default text, with live progress on a terminal)")
	c.Flags().BoolVar(&o.noRecord, "no-record", false, "do not store the run")
	c.Flags().DurationVar(&o.timeout, "timeout", 0, "how long each probe may take (default checklists.timeout, 30s)")
}

// checklistEnv is what every checklist command reads: the configuration
// and the checklists.
func (a *cli) checklistEnv() (config.Config, []checklist.Checklist, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return cfg, nil, err
	}
	cls, err := checklist.All(cfg.Checklists.Dir)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, cls, nil
}

// checklistLookup finds the checklist and, when asked, the service.
func checklistLookup(cfg config.Config, cls []checklist.Checklist, name, service string) (checklist.Checklist, catalog.Service, error) {
	cl, err := checklist.Find(cls, name)
	if err != nil {
		return cl, catalog.Service{}, err
	}
	if service == "" {
		return cl, catalog.Service{}, fmt.Errorf("--service: name the service (%s)", strings.Join(catalogNames(cfg.Catalog()), ", "))
	}
	svc, err := checklist.Service(cfg.Catalog(), service)
	return cl, svc, err
}

func catalogNames(cat catalog.Catalog) []string {
	out := make([]string, len(cat.Services))
	for i, s := range cat.Services {
		out[i] = s.Name
	}
	return out
}

// runChecklist runs one checklist for one service.
func (a *cli) runChecklist(cmd *cobra.Command, name string, o checklistRunOptions) error {
	if o.output != "" && !slices.Contains(report.Formats, o.output) && o.output != "md" {
		return fmt.Errorf("--output %q: want %s", o.output, strings.Join(report.Formats, ", "))
	}
	ctx := cmd.Context()
	cfg, cls, err := a.checklistEnv()
	if err != nil {
		return err
	}
	cl, svc, err := checklistLookup(cfg, cls, name, o.service)
	if err != nil {
		return err
	}
	level, why, err := cl.RequiredLevel(svc, o.level)
	if err != nil {
		return fmt.Errorf("--level: %w", err)
	}
	be, err := openChecklistBackend(ctx, cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	records, err := be.Records(ctx, cl.Name, svc.Name)
	if err != nil {
		return fmt.Errorf("reading the records of %s from %s: %w", svc.Name, be.Where(), err)
	}
	now := checklistNow()
	timeout := o.timeout
	if timeout <= 0 {
		timeout = cfg.Checklists.ChecklistTimeout()
	}
	runner := checklist.Runner{Probers: checklistProbers(ctx, cfg, be), Timeout: timeout}
	out := cmd.OutOrStdout()
	var live *checklistProgress
	if o.output == "" && checklistTTY(out) {
		live = newChecklistProgress(out, cl)
		runner.Progress = live.event
		live.start()
	}
	ep := checklist.Endpoints{}
	if s, ok := cfg.Checklists.Services[svc.Name]; ok {
		ep = checklist.Endpoints{URL: s.URL, HTTPURL: s.HTTPURL, Versions: s.Versions}
	}
	probed := runner.Run(ctx, cl, svc, ep, now)
	if live != nil {
		live.stop()
	}
	run := checklist.Evaluate(cl, svc, level, why, probed, records, now)
	run.By = cfg.User
	if !o.noRecord {
		if err := be.AddRun(ctx, &run); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "oncall: the run is not stored in %s: %v\n", be.Where(), secret.Redact(err.Error()))
		}
	}
	format := o.output
	if format == "" {
		format = "text"
	}
	if err := report.Write(out, format, run); err != nil {
		return err
	}
	if code := run.ExitCode(); code != 0 {
		return exitError{code: code, err: errSilent}
	}
	return nil
}

func (a *cli) checklistListCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the checklists: built in and from checklists.dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, cls, err := a.checklistEnv()
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), cls)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCHECKS\tLEVELS\tFROM\tTITLE")
			for _, cl := range cls {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", termtext.Clean(cl.Name), len(cl.Checks), strings.Join(cl.Levels, " < "), termtext.Clean(cl.File), termtext.Clean(cl.Title))
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return c
}

func (a *cli) checklistExplainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "explain NAME [CHECK]",
		Short: "Explain a checklist (its levels and checks) or one check (why it matters, how to pass it)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, cls, err := a.checklistEnv()
			if err != nil {
				return err
			}
			cl, err := checklist.Find(cls, args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(args) == 1 {
				return printChecklistExplain(w, cl)
			}
			c, ok := cl.Check(args[1])
			if !ok {
				return &checklist.Unknown{What: "check", Name: args[1], Valid: cl.IDs(), In: "checklist " + cl.Name}
			}
			return printCheckExplain(w, cl, c)
		},
	}
}

func printChecklistExplain(w io.Writer, cl checklist.Checklist) error {
	fmt.Fprintf(w, "%s: %s (%s)\n", termtext.Clean(cl.Name), termtext.Clean(cl.Title), termtext.Clean(cl.File))
	if cl.Description != "" {
		fmt.Fprintf(w, "\n%s\n", termtext.Clean(cl.Description))
	}
	fmt.Fprintf(w, "\nlevels: %s (each requires the checks of the levels below it; default %s)\n", strings.Join(cl.Levels, " < "), cl.DefaultLevel)
	if len(cl.Tiers) > 0 {
		var tiers []string
		for t := 1; t <= 5; t++ {
			if l, ok := cl.Tiers[t]; ok {
				tiers = append(tiers, fmt.Sprintf("tier %d → %s", t, l))
			}
		}
		fmt.Fprintf(w, "by tier: %s\n", strings.Join(tiers, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tCATEGORY\tPROVEN BY\tTITLE")
	for _, c := range cl.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", termtext.Clean(c.ID), termtext.Clean(c.Level), termtext.Clean(c.Category), checkProvenBy(c), termtext.Clean(c.Title))
	}
	return tw.Flush()
}

// checkProvenBy says in a few words what decides a check.
func checkProvenBy(c checklist.Check) string {
	switch c.Kind {
	case checklist.KindProbe:
		if c.Attestable {
			return c.Probe + " probe, or attestation"
		}
		return c.Probe + " probe"
	case checklist.KindExternal:
		return "pushed result"
	}
	return "attestation"
}

func printCheckExplain(w io.Writer, cl checklist.Checklist, c checklist.Check) error {
	fmt.Fprintf(w, "%s / %s: %s\n\n", termtext.Clean(cl.Name), termtext.Clean(c.ID), termtext.Clean(c.Title))
	fmt.Fprintf(w, "%-12s %s\n", "level", termtext.Clean(c.Level))
	if c.Category != "" {
		fmt.Fprintf(w, "%-12s %s\n", "category", termtext.Clean(c.Category))
	}
	fmt.Fprintf(w, "%-12s %s\n", "proven by", checkProvenBy(c))
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range c.Params {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(w, "%-12s %s = %s\n", "param", termtext.Clean(k), termtext.Clean(c.Params[k]))
	}
	if c.Kind != checklist.KindProbe || c.Attestable {
		ev := "optional"
		if c.Evidence == checklist.EvidenceRequired {
			ev = "required"
		}
		vf := c.ValidFor
		if vf == 0 {
			vf = checklist.DefaultValidFor
		}
		fmt.Fprintf(w, "%-12s %s\n%-12s %s\n", "evidence", ev, "valid for", fmt.Sprintf("%dd", int(vf/(24*time.Hour))))
	}
	if c.Rationale != "" {
		fmt.Fprintf(w, "\nwhy:\n  %s\n", termtext.Clean(c.Rationale))
	}
	if c.Remediation != "" {
		fmt.Fprintf(w, "\nhow to pass:\n  %s\n", termtext.Clean(c.Remediation))
	}
	switch {
	case c.Kind == checklist.KindAttestation || c.Attestable:
		fmt.Fprintf(w, "\nattest:  oncall checklist attest %s %s --service NAME", cl.Name, c.ID)
		if c.Evidence == checklist.EvidenceRequired {
			fmt.Fprint(w, " --evidence URL")
		}
		fmt.Fprintln(w, " --justification TEXT")
	case c.Kind == checklist.KindExternal:
		fmt.Fprintf(w, "\nreport:  oncall checklist report %s %s --service NAME --status pass --url URL\n", cl.Name, c.ID)
		fmt.Fprintf(w, "   or:   POST /api/v1/checklists/%s/results {\"check\": %q, \"service\": ..., \"status\": \"pass\", \"by\": ...}\n", cl.Name, c.ID)
	}
	if c.Kind == checklist.KindProbe && !c.Attestable {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "waive:   oncall checklist waive %s %s --service NAME --reason TEXT --expires 30d\n", cl.Name, c.ID)
	return nil
}

func (a *cli) checklistImportCmd() *cobra.Command {
	var name, out string
	c := &cobra.Command{
		Use:   "import FILE.md [--name NAME] [--out FILE.yaml]",
		Short: "Import a Markdown checklist (task lists, or a table with a level column) into a YAML checklist",
		Long: `Import a Markdown checklist into a checklist file for checklists.dir: GitHub
task lists ("- [ ] Check — description", headings as categories, a trailing
"(level)" as the level) or tables with a name column and a level column, or
one column per level marked where the check is required. Every check becomes
an attestation; change a check's kind to probe where oncall can prove it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if name == "" {
				base := strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0]))
				name = strings.Trim(strings.Map(func(r rune) rune {
					switch {
					case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_':
						return r
					case r >= 'A' && r <= 'Z':
						return r + 'a' - 'A'
					}
					return '-'
				}, base), "-_")
			}
			cl, err := checklist.ImportMarkdown(name, src)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			b, err := cl.YAML()
			if err != nil {
				return err
			}
			if _, err := checklist.Parse(args[0], b); err != nil {
				return fmt.Errorf("the imported checklist does not read back (please report this): %w", err)
			}
			header := fmt.Sprintf("# Imported from %s by oncall checklist import: %d checks, every one an attestation.\n", filepath.Base(args[0]), len(cl.Checks))
			b = append([]byte(header), b...)
			if out == "" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: checklist %s with %d checks\n", out, cl.Name, len(cl.Checks))
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "the checklist's name (default: from the file name)")
	c.Flags().StringVar(&out, "out", "", "write the YAML here instead of to stdout")
	return c
}

func (a *cli) checklistAnnounceCmd() *cobra.Command {
	var service, check string
	var to []string
	var dryRun bool
	c := &cobra.Command{
		Use:   "announce NAME --service SERVICE [--to engineering@example.com] [--dry-run]",
		Short: "Send the launch email through checklists.smtp and record the send as the launch-email check's result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, cls, err := a.checklistEnv()
			if err != nil {
				return err
			}
			cl, svc, err := checklistLookup(cfg, cls, args[0], service)
			if err != nil {
				return err
			}
			ck, ok := cl.Check(check)
			if !ok || ck.Kind != checklist.KindExternal {
				return fmt.Errorf("--check %q: want an external check of %s to record the send as (%s)", check, cl.Name, strings.Join(externalCheckIDs(cl), ", "))
			}
			smtp := cfg.Checklists.SMTP
			if len(to) == 0 {
				to = smtp.To
			}
			if smtp.Addr == "" && !dryRun {
				return errors.New("no SMTP server: set checklists.smtp (addr, from, to) in the configuration, or use --dry-run")
			}
			be, err := openChecklistBackend(ctx, cfg)
			if err != nil {
				return err
			}
			defer be.Close()
			now := checklistNow()
			runs, err := be.Runs(ctx, cl.Name, svc.Name, 1)
			if err != nil {
				return err
			}
			var run checklist.Run
			if len(runs) > 0 {
				run = runs[0]
			} else {
				records, err := be.Records(ctx, cl.Name, svc.Name)
				if err != nil {
					return err
				}
				level, why, _ := cl.RequiredLevel(svc, "")
				run = checklist.Evaluate(cl, svc, level, why, nil, records, now)
				fmt.Fprintf(cmd.ErrOrStderr(), "oncall: no run of %s for %s yet: the email says so (probes not run)\n", cl.Name, svc.Name)
			}
			from := smtp.From
			if from == "" {
				from = "oncall@localhost"
			}
			msg, err := announce.Compose(run, svc, from, to, now)
			if err != nil {
				return fmt.Errorf("checklists.smtp: %w", err)
			}
			if dryRun {
				_, err := cmd.OutOrStdout().Write(msg.Bytes())
				return err
			}
			sctx, cancel := context.WithTimeout(ctx, cfg.Checklists.ChecklistTimeout())
			defer cancel()
			srv := announce.Server{Addr: smtp.Addr, Username: smtp.Username, Password: smtp.Password, RequireTLS: smtp.RequireTLS}
			if err := srv.Send(sctx, msg); err != nil {
				return errors.New(secret.Literal(cfg.Checklists.Secrets()).Redact(err.Error()))
			}
			rec, err := be.AddRecord(ctx, cl, checklist.Request{Kind: checklist.RecordResult, Check: ck.ID, Service: svc.Name, Status: checklist.Pass,
				By: cfg.User, Text: fmt.Sprintf("sent to %s, Message-ID <%s>", strings.Join(to, ", "), msg.ID), Source: "smtp"})
			if err != nil {
				return fmt.Errorf("the email was sent (Message-ID <%s>), but recording it failed: %w", msg.ID, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sent the launch email of %s to %s (Message-ID <%s>); %s / %s passes until %s\n",
				svc.Name, strings.Join(to, ", "), msg.ID, cl.Name, rec.Check, rec.Expires.UTC().Format("2006-01-02"))
			return nil
		},
	}
	c.Flags().StringVar(&service, "service", "", "the catalogue service that launches (required)")
	c.Flags().StringSliceVar(&to, "to", nil, "recipients (default checklists.smtp.to)")
	c.Flags().StringVar(&check, "check", "launch-email", "the external check the send proves")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print the email instead of sending it; record nothing")
	return c
}

func externalCheckIDs(cl checklist.Checklist) []string {
	var out []string
	for _, c := range cl.Checks {
		if c.Kind == checklist.KindExternal {
			out = append(out, c.ID)
		}
	}
	return out
}

// checklistTTY reports whether w is a terminal (live progress is drawn
// only there).
func checklistTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// checklistProgress draws a run's live view on a terminal, redrawn every 100ms.
type checklistProgress struct {
	w    io.Writer
	view *report.Progress
	done chan struct{}
	quit chan struct{}
}

func newChecklistProgress(w io.Writer, cl checklist.Checklist) *checklistProgress {
	return &checklistProgress{w: w, view: report.NewProgress(cl), done: make(chan struct{}), quit: make(chan struct{})}
}

func (p *checklistProgress) event(e checklist.Event) { p.view.Event(e) }

func (p *checklistProgress) start() {
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for tick := 0; ; tick++ {
			io.WriteString(p.w, p.view.Redraw(tick))
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
		}
	}()
}

// stop ends the redraws and erases the view: the report follows.
func (p *checklistProgress) stop() {
	close(p.quit)
	<-p.done
	io.WriteString(p.w, p.view.Clear())
}
