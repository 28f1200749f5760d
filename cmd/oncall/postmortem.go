package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/alerts/slo"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/postmortem"
	"github.com/oncallhq/oncall/postmortem/review"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/termtext"
)

// postmortemCmd is `oncall postmortem`: documents scaffolded from what
// oncall saw, their status and action items, and the weekly review.
func (a *cli) postmortemCmd() *cobra.Command {
	c := &cobra.Command{Use: "postmortem", Aliases: []string{"postmortems", "pm"},
		Short: "Postmortems scaffolded from an incident, their action items, and the weekly review",
		Long: `postmortem writes and tracks postmortems: Markdown files with YAML front
matter in the postmortem directory (postmortems.directory, default
postmortems beside the configuration; a git repository of postmortems is
the common setup).

  oncall postmortem new INC-7             scaffold it from what oncall saw
  oncall postmortem status INC-7.md "in review"
  oncall postmortem actions --overdue     action items across postmortems
  oncall postmortem import old/*.md       bring in ones written elsewhere
  oncall postmortem review --week 2026-W47`}
	c.PersistentFlags().String("dir", "", "the postmortem directory (default: postmortems.directory)")
	c.AddCommand(a.postmortemNewCmd(), a.postmortemStatusCmd(), a.postmortemActionsCmd(), a.postmortemImportCmd(), a.postmortemReviewCmd())
	return c
}

// postmortemDir is --dir, else the configured directory.
func postmortemDir(cmd *cobra.Command, cfg config.Config) string {
	if d, _ := cmd.Flags().GetString("dir"); d != "" {
		return d
	}
	return cfg.Postmortems.Dir(cfg.File)
}

// fileNameRE is what a postmortem's file name keeps of its ID.
var fileNameRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func postmortemFile(dir, id string) string {
	name := strings.Trim(fileNameRE.ReplaceAllString(id, "-"), "-.")
	if name == "" {
		name = "postmortem"
	}
	return filepath.Join(dir, name+".md")
}

// writeNew writes a postmortem that must not exist yet unless force.
func writeNew(path string, b []byte, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%s exists: edit it, or write it again with --force", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFile(path, b)
}

// writeFile replaces path with b at once: a reader never sees half a file.
func writeFile(path string, b []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// serverSources reads what a postmortem needs from the server.
type serverSources struct{ c *client.Client }

func (s serverSources) Incident(ctx context.Context, id int64) (incidents.Incident, error) {
	inc, err := s.c.Incident(ctx, id)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
		return inc, fmt.Errorf("%w (the server %s has none)", incidents.ErrNotFound, s.c.URL())
	}
	return inc, err
}

func (s serverSources) Transitions(ctx context.Context, from, to time.Time) ([]alerts.Transition, error) {
	return s.c.HistoryBetween(ctx, from, to)
}

func (s serverSources) IncidentPages(ctx context.Context, id int64) ([]incidents.Page, error) {
	return s.c.IncidentPages(ctx, id)
}

func (s serverSources) Pages(ctx context.Context, from, to time.Time) ([]incidents.Page, error) {
	return s.c.PagesBetween(ctx, from, to)
}

func (s serverSources) IncidentsBetween(ctx context.Context, from, to time.Time) ([]incidents.Incident, error) {
	return s.c.IncidentsBetween(ctx, from, to)
}

func (s serverSources) Rules(ctx context.Context) ([]alerts.Rule, error) { return s.c.Rules(ctx) }

// ChatMessages reads what the incident's channel said, as the Slack bot
// kept it.
func (s serverSources) ChatMessages(ctx context.Context, id int64, from, to time.Time) ([]postmortem.ChatMessage, error) {
	ms, err := s.c.ChatMessages(ctx, id, from, to)
	out := make([]postmortem.ChatMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, postmortem.ChatMessage{At: m.At, Channel: m.Channel, Author: m.Author, Text: m.Text})
	}
	return out, err
}

// LogLines reads the server's log buffer for the lines of [from, to].
func (s serverSources) LogLines(ctx context.Context, from, to time.Time) ([]logs.Entry, error) {
	const page = 5000
	var out []logs.Entry
	for after := uint64(0); ; {
		es, err := s.c.Logs(ctx, after, page)
		if err != nil {
			return out, err
		}
		for _, e := range es {
			if !e.Time.Before(from) && !e.Time.After(to) {
				out = append(out, e)
			}
		}
		if len(es) < page {
			return out, nil
		}
		after = es[len(es)-1].Seq
	}
}

// rangeSource evaluates range queries on the server.
type rangeSource struct{ c *client.Client }

func (r rangeSource) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	return r.c.Range(ctx, expr, start, end, step)
}

// templateOf reads the configured body template (nil: the built-in one).
func templateOf(cfg config.Config) (*template.Template, error) {
	if cfg.Postmortems.Template == "" {
		return nil, nil
	}
	b, err := os.ReadFile(cfg.Postmortems.Template)
	if err != nil {
		return nil, fmt.Errorf("postmortems.template: %w", err)
	}
	return postmortem.ParseTemplate(cfg.Postmortems.Template, string(b))
}

func (a *cli) postmortemNewCmd() *cobra.Command {
	var force, stdout bool
	c := &cobra.Command{
		Use:   "new INCIDENT",
		Short: "Write the postmortem of an incident, prefilled from what oncall saw",
		Long: `new writes INC-<n>.md in the postmortem directory: front matter (status Draft,
owner, services, the start, detection, acknowledgement, mitigation and
resolution times, action items from the tasks left open) and the standard
sections, with the timeline (incident events, alert transitions, pages and
their delivery, in UTC), who was paged at each step and when they answered,
the times to detect, acknowledge, mitigate and resolve, the alert rules and
their queries, an impact estimate with a chart of their series, and the log
lines of the affected services at the peak. What oncall cannot know stays a
prompt. The body comes from postmortems.template when set (a Go
text/template; see the built-in one with --print-template).

A file that exists is never overwritten without --force.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if p, _ := cmd.Flags().GetBool("print-template"); p {
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if p, _ := cmd.Flags().GetBool("print-template"); p {
				_, err := io.WriteString(cmd.OutOrStdout(), postmortem.DefaultTemplateText())
				return err
			}
			id, err := parseIncidentID(args[0])
			if err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			tmpl, err := templateOf(cfg)
			if err != nil {
				return err
			}
			dir := postmortemDir(cmd, cfg)
			path := postmortemFile(dir, incidents.Ref(id))
			if _, err := os.Stat(path); err == nil && !force && !stdout {
				return fmt.Errorf("%s exists: edit it, or write it again with --force", path)
			}
			c, err := findServer(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			src := serverSources{c}
			s, err := postmortem.Build(cmd.Context(), postmortem.Sources{Incidents: src, Transitions: src, Pages: src, Rules: src, Series: rangeSource{c}, Logs: src, Chat: src},
				id, postmortem.Options{Now: time.Now(), ActionDueDays: actionDays(cfg), DueDays: cfg.Postmortems.DueDays, Catalog: cfg.Catalog(),
					Objectives: objectives(cfg)})
			if err != nil {
				return err
			}
			doc, err := s.Document(tmpl)
			if err != nil {
				return err
			}
			b, err := doc.Bytes()
			if err != nil {
				return err
			}
			if stdout {
				_, err := cmd.OutOrStdout().Write(b)
				return err
			}
			if err := writeNew(path, b, force); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s: %s, %d timeline rows, %d pages, %d action items\n", path, doc.Status, len(s.Timeline), len(s.Escalation), len(doc.Actions))
			if len(s.Missing) > 0 {
				fmt.Fprintf(w, "could not read: %s\n", termtext.Clean(strings.Join(s.Missing, "; ")))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite the postmortem if it exists")
	c.Flags().BoolVar(&stdout, "stdout", false, "print the postmortem instead of writing it")
	c.Flags().Bool("print-template", false, "print the built-in body template (to start an override from)")
	return c
}

// actionDays is the configured days of action items, by severity.
func actionDays(cfg config.Config) func(incidents.Severity) int {
	return func(s incidents.Severity) int {
		if d, ok := cfg.Postmortems.ActionDays(s); ok {
			return d
		}
		return postmortem.DefaultActionDueDays(s)
	}
}

func (a *cli) postmortemStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status FILE STATUS",
		Short: "Move a postmortem to draft, in review, reviewed or closed",
		Long: `status sets the status in the front matter of FILE (and when it changed);
the rest of the file stays as written.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			st, err := postmortem.ParseStatus(args[1])
			if err != nil {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			d, err := postmortem.Parse(path, b)
			if err != nil {
				return err
			}
			was := d.Status
			d.SetStatus(st, time.Now())
			out, err := d.Bytes()
			if err != nil {
				return err
			}
			if err := writeFile(path, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s → %s\n", path, was, st)
			return nil
		},
	}
}

// loadPostmortems reads the postmortem directory; a directory that does
// not exist yet holds none.
func loadPostmortems(dir string) ([]postmortem.Document, []error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	docs, bad := postmortem.Load(os.DirFS(dir), ".")
	for i := range docs {
		docs[i].File = filepath.Join(dir, docs[i].File)
	}
	for i, e := range bad {
		var p postmortem.Problem
		if errors.As(e, &p) && !strings.Contains(e.Error(), "\n") {
			p.File = filepath.Join(dir, p.File)
			bad[i] = p
		} else {
			bad[i] = fmt.Errorf("%s: %w", dir, e)
		}
	}
	return docs, bad
}

func (a *cli) postmortemActionsCmd() *cobra.Command {
	var f postmortem.ActionFilter
	var output string
	c := &cobra.Command{
		Use:   "actions",
		Short: "List the action items of every postmortem (outstanding ones; --overdue, --owner)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			f.Owner = strings.TrimPrefix(f.Owner, "@")
			docs, bad := loadPostmortems(postmortemDir(cmd, cfg))
			for _, e := range bad {
				fmt.Fprintf(cmd.ErrOrStderr(), "skipped %v\n", termtext.Clean(e.Error()))
			}
			list := postmortem.ListActions(docs, f, time.Now())
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			if len(list) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no action items")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DUE\tOWNER\tSTATUS\tPOSTMORTEM\tACTION\tTICKET")
			for _, r := range list {
				due := r.Due.String()
				if due == "" {
					due = "-"
				}
				if r.Overdue {
					due += " (overdue)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", due, termtext.Clean(or(r.Owner, "-")), r.Status, termtext.Clean(r.Postmortem),
					termtext.Clean(r.Title), termtext.Clean(or(r.Ticket, "-")))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&f.Overdue, "overdue", false, "only those past their due date")
	c.Flags().StringVar(&f.Owner, "owner", "", "only this person's")
	c.Flags().BoolVar(&f.All, "all", false, "done and dropped ones too")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return c
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (a *cli) postmortemImportCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "import FILE...",
		Short: "Bring in postmortems written with other templates, so the review counts them",
		Long: `import reads postmortems written with a heading-based template (Google's SRE
book's, PagerDuty's, Atlassian's and the like), with or without YAML front
matter, and writes each into the postmortem directory in oncall's format:
front matter made from what it says (title, date, authors, status,
severity, services, the action item table or task list) over its prose,
unchanged. An existing file is not overwritten without --force.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			dir := postmortemDir(cmd, cfg)
			var errs []error
			for _, in := range args {
				b, err := os.ReadFile(in)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				d, rep, err := postmortem.Import(in, b)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				out, err := d.Bytes()
				if err != nil {
					errs = append(errs, err)
					continue
				}
				path := postmortemFile(dir, d.ID)
				if err := writeNew(path, out, force); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s → %s: %s, %d of %d sections, %d action items", in, path, d.Status, len(rep.Sections), len(postmortem.Sections), len(d.Actions))
				if len(rep.Missing) > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "; no %s", strings.Join(rep.Missing, ", "))
				}
				fmt.Fprintln(cmd.OutOrStdout())
			}
			return errors.Join(errs...)
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite postmortems that exist")
	return c
}

func (a *cli) postmortemReviewCmd() *cobra.Command {
	var week, output string
	c := &cobra.Command{
		Use:   "review",
		Short: "The agenda of the weekly postmortem review (Markdown, or -o json)",
		Long: `review prints the agenda of the weekly postmortem review for an ISO week
(default: this week, up to now): the week's incidents with severity,
duration and postmortem status; postmortems due or stuck in review;
overdue action items by owner; the on-call load (pages per shift and per
person, shifts paged more than twice in 12 hours, pages out of hours and in
each person's sleep hours in their own time zone); signal quality (the
noisiest alerts, pages that needed no action, repeat incidents, incidents
declared by hand that no alert caught); and the medians, with counts, of
the time to acknowledge and to resolve against the previous four weeks.
A postmortem file that cannot be read is skipped and listed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "markdown" && output != "md" && output != "json" {
				return fmt.Errorf("--output %q: want markdown or json", output)
			}
			now := time.Now()
			w := review.WeekOf(now)
			if week != "" {
				var err error
				if w, err = review.ParseWeek(week); err != nil {
					return fmt.Errorf("--week: %w", err)
				}
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			c, err := findServer(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			r, err := weeklyReview(cmd.Context(), c, cfg, postmortemDir(cmd, cfg), w, now)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			return r.WriteMarkdown(cmd.OutOrStdout())
		},
	}
	c.Flags().StringVar(&week, "week", "", "the ISO week, like 2026-W47 (default: this week)")
	c.Flags().StringVarP(&output, "output", "o", "markdown", "output format: markdown or json")
	return c
}

// weeklyReview builds the review of week w from the server and the
// postmortem directory dir: the same agenda for the CLI and the console.
func weeklyReview(ctx context.Context, c *client.Client, cfg config.Config, dir string, w review.Week, now time.Time) (review.Review, error) {
	src := serverSources{c}
	return review.Build(ctx, review.Sources{Incidents: src, Pages: src, Transitions: src, Postmortems: dirSource(dir)},
		review.Options{Week: w, Now: now, People: cfg.People(), StuckAfter: cfg.Postmortems.StuckAfter})
}

// Review is the weekly postmortem review for the console, from the
// configured postmortem directory.
func (b consoleBackend) Review(ctx context.Context, w review.Week) (review.Review, error) {
	return weeklyReview(ctx, b.Client, b.cfg, b.cfg.Postmortems.Dir(b.cfg.File), w, time.Now())
}

// dirSource reads the postmortem directory for the review.
type dirSource string

func (d dirSource) Postmortems(context.Context) ([]postmortem.Document, []error) {
	return loadPostmortems(string(d))
}

// objectives are the catalogue's SLOs as the postmortem measures them:
// their 5-minute error ratio and, for those written as good and total,
// the rate of all events, so that the impact counts the requests lost.
func objectives(cfg config.Config) []postmortem.Objective {
	var out []postmortem.Objective
	for _, svc := range cfg.Services {
		for _, s := range svc.SLOs {
			window := time.Duration(s.Window)
			if window == 0 {
				window = time.Duration(slo.DefaultWindow)
			}
			out = append(out, postmortem.Objective{Service: svc.Name, Name: s.Name, Objective: s.Objective, Window: window,
				ErrorRatio: s.ErrorRatioOver(5 * time.Minute), Total: s.TotalOver(5 * time.Minute)})
		}
	}
	return out
}
