package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
	"github.com/oncallhq/oncall/termtext"
)

// parseIncidentID reads 7 or INC-7.
func parseIncidentID(s string) (int64, error) {
	v := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "INC-")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("incident %q: want a number or INC-<number>", s)
	}
	return id, nil
}

func (a *cli) incidentCmd() *cobra.Command {
	c := &cobra.Command{Use: "incident", Aliases: []string{"incidents", "inc"},
		Short: "Incidents: declare, list, show, and run them (ack, escalate, assign, update, mitigate, resolve)",
		Long: `incident runs incidents the way an incident commander does, on the running
server. Every command acts as --user (default: user from the configuration,
then $USER) and prints the incident after it; -o json prints it as JSON.

  oncall incident declare "Checkout fails for EU players" --sev 2 --service checkout
  oncall incident assign 7 --role ic @riley
  oncall incident update 7 "Payments are failing; we are rolling back." --public
  oncall incident task add 7 "roll back 4.2" --owner bob
  oncall incident mitigate 7 --why "rolled back"
  oncall incident resolve 7`}
	c.AddCommand(a.declareCmd(), a.incidentListCmd(), a.incidentShowCmd())
	simple := []struct {
		name, short string
		withWhy     bool
	}{
		{"ack", "Acknowledge: you own it, escalation stops (until the policy's ack_timeout)", false},
		{"escalate", "Page the next step of the escalation policy now", false},
		{"mitigate", "The impact has stopped (the cause may remain): escalation stops for good", true},
		{"resolve", "Close the incident", true},
		{"reopen", "Send a mitigated or resolved incident back to triggered and page its policy again", true},
	}
	for _, s := range simple {
		action := s.name
		var why string
		sub := &cobra.Command{Use: action + " ID", Short: s.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.incidentAction(cmd, args[0], action, client.Action{Why: why})
			}}
		if s.withWhy {
			sub.Flags().StringVar(&why, "why", "", "the reason, for the timeline")
		}
		a.addOutputFlag(sub)
		c.AddCommand(sub)
	}
	c.AddCommand(a.assignCmd(), a.textActionCmd("update", "Post a status update (--public: on the status page too)"),
		a.textActionCmd("note", "Add a note to the timeline"), a.severityCmd(), a.channelCmd(), group(a.taskCmd()), a.mergeCmd())
	return c
}

// incidentAction runs an action on incident arg and prints the result.
func (a *cli) incidentAction(cmd *cobra.Command, arg, action string, act client.Action) error {
	if err := a.checkOutput(); err != nil {
		return err
	}
	id, err := parseIncidentID(arg)
	if err != nil {
		return err
	}
	cfg, c, err := a.serverClient(cmd.Context())
	if err != nil {
		return err
	}
	act.By, act.Source = cfg.User, "cli"
	inc, err := c.Act(cmd.Context(), id, action, act)
	if err != nil {
		return err
	}
	return a.printIncidentResult(cmd.OutOrStdout(), inc, action)
}

func (a *cli) printIncidentResult(w io.Writer, inc incidents.Incident, action string) error {
	if a.output == "json" {
		return writeJSON(w, inc)
	}
	last := ""
	if n := len(inc.Timeline); n > 0 {
		last = termtext.Clean(inc.Timeline[n-1].Text)
	}
	fmt.Fprintf(w, "%s %s: %s\n", inc.Ref(), inc.Status, last)
	if inc.CommanderNeeded {
		fmt.Fprintf(w, "%s needs an incident commander: oncall incident assign %d --role ic @someone\n", inc.Severity, inc.ID)
	}
	return nil
}

func (a *cli) declareCmd() *cobra.Command {
	var d client.Declaration
	c := &cobra.Command{
		Use:   "declare TITLE",
		Short: "Declare an incident that no alert caught (or a drill), and page its policy",
		Long: `declare opens an incident by hand. It pages the service's escalation policy
(from the service catalogue), or --policy, or the main on-call policy;
--no-page opens it without paging. --drill runs the whole path with every page
marked as a drill, so that a rehearsal is on record.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if d.Severity != "" {
				if _, err := incidents.ParseSeverity(d.Severity); err != nil {
					return fmt.Errorf("--sev: %w", err)
				}
			}
			cfg, c, err := a.serverClient(cmd.Context())
			if err != nil {
				return err
			}
			d.Title, d.By, d.Source = args[0], cfg.User, "cli"
			d.Commander = strings.TrimPrefix(d.Commander, "@")
			inc, err := c.Declare(cmd.Context(), d)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), inc)
			}
			w := cmd.OutOrStdout()
			kind := "incident"
			if inc.Drill {
				kind = "drill"
			}
			fmt.Fprintf(w, "%s declared (%s %s): %s\n", inc.Ref(), kind, inc.Severity, termtext.Clean(inc.Title))
			if len(inc.Escalation.Paged) > 0 {
				fmt.Fprintf(w, "paged %s (%s, step 1 of %s)\n", termtext.Clean(strings.Join(inc.Escalation.Paged, ", ")), termtext.Clean(inc.Escalation.StepName), termtext.Clean(inc.Escalation.Policy))
			} else {
				fmt.Fprintln(w, "nobody paged")
			}
			if inc.CommanderNeeded {
				fmt.Fprintf(w, "%s needs an incident commander: oncall incident assign %d --role ic @someone\n", inc.Severity, inc.ID)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&d.Severity, "sev", "", "severity, SEV1 (worst) to SEV4 (default SEV3)")
	f.StringVar(&d.Service, "service", "", "the affected service (from the catalogue)")
	f.StringVar(&d.Summary, "summary", "", "what is known so far")
	f.StringVar(&d.Policy, "policy", "", "the escalation policy to page (default: the service's)")
	f.BoolVar(&d.NoPage, "no-page", false, "page nobody")
	f.BoolVar(&d.Drill, "drill", false, "a rehearsal: the whole path runs, pages say DRILL")
	f.StringVar(&d.Commander, "ic", "", "the incident commander from the start")
	a.addOutputFlag(c)
	return c
}

func (a *cli) incidentListCmd() *cobra.Command {
	var all bool
	var limit int
	c := &cobra.Command{
		Use: "list", Short: "List open incidents, oldest first (--all: the newest of every status)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			_, c, err := a.serverClient(cmd.Context())
			if err != nil {
				return err
			}
			var incs []incidents.Incident
			if all {
				incs, err = c.AllIncidents(cmd.Context(), limit)
			} else {
				incs, err = c.Incidents(cmd.Context())
			}
			if err != nil {
				return err
			}
			if a.output == "json" {
				if incs == nil {
					incs = []incidents.Incident{}
				}
				return writeJSON(cmd.OutOrStdout(), incs)
			}
			return printIncidents(cmd.OutOrStdout(), incs, time.Now())
		},
	}
	c.Flags().BoolVar(&all, "all", false, "every status, newest first")
	c.Flags().IntVar(&limit, "limit", 50, "with --all, how many")
	a.addOutputFlag(c)
	return c
}

func printIncidents(w io.Writer, incs []incidents.Incident, now time.Time) error {
	if len(incs) == 0 {
		fmt.Fprintln(w, "no incidents")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSEV\tSERVICE\tOPEN\tCOMMANDER\tTITLE")
	for _, inc := range incs {
		ic := inc.Role(incidents.RoleCommander)
		if inc.CommanderNeeded {
			ic = "NEEDED"
		}
		status := inc.Status.String()
		if inc.Drill {
			status += " (drill)"
		}
		age := now.Sub(inc.OpenedAt).Round(time.Second)
		if !inc.Open() {
			age = inc.ResolvedAt.Sub(inc.OpenedAt).Round(time.Second)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inc.Ref(), status, dash(inc.Severity.String()), dash(termtext.Clean(inc.Service)), age,
			dash(termtext.Clean(ic)), termtext.Clean(inc.Title))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *cli) incidentShowCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "show ID", Short: "One incident: roles, escalation, updates, tasks and the whole timeline", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			id, err := parseIncidentID(args[0])
			if err != nil {
				return err
			}
			_, c, err := a.serverClient(cmd.Context())
			if err != nil {
				return err
			}
			inc, err := c.Incident(cmd.Context(), id)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), inc)
			}
			printIncident(cmd.OutOrStdout(), inc, time.Now())
			if inc.Channel != "" {
				ms, err := c.ChatMessages(cmd.Context(), inc.ID, time.Time{}, time.Time{})
				if err != nil {
					return fmt.Errorf("the chat of %s: %w", inc.Ref(), err)
				}
				printChat(cmd.OutOrStdout(), ms, 20)
			}
			return nil
		},
	}
	a.addOutputFlag(c)
	return c
}

// printIncident writes an incident for a terminal; every outside string
// is cleaned of control characters.
func printIncident(w io.Writer, inc incidents.Incident, now time.Time) {
	cl := termtext.Clean
	at := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
	fmt.Fprintf(w, "%s  %s\n", inc.Ref(), cl(inc.Title))
	if inc.Summary != "" {
		fmt.Fprintln(w, termtext.CleanLines(inc.Summary))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	status := inc.Status.String()
	if inc.Drill {
		status += " (drill)"
	}
	row("status", status)
	row("severity", dash(inc.Severity.String()))
	row("service", dash(cl(inc.Service)))
	row("opened", fmt.Sprintf("%s (%s ago)", at(inc.OpenedAt), now.Sub(inc.OpenedAt).Round(time.Second)))
	if inc.DeclaredBy != "" {
		row("declared by", cl(inc.DeclaredBy)+" (no alert caught it)")
	}
	for _, x := range []struct {
		what, by string
		at       time.Time
	}{{"acknowledged", inc.AckedBy, inc.AckedAt}, {"mitigated", inc.MitigatedBy, inc.MitigatedAt}, {"resolved", inc.ResolvedBy, inc.ResolvedAt}} {
		if !x.at.IsZero() {
			row(x.what, at(x.at)+" by "+cl(x.by))
		}
	}
	if inc.MergedInto != 0 {
		row("merged into", incidents.Ref(inc.MergedInto))
	}
	if inc.RunbookURL != "" {
		row("runbook", cl(inc.RunbookURL))
	}
	if inc.Channel != "" {
		row("channel", cl(inc.Channel))
	}
	for _, r := range incidents.Roles {
		row(r.Title(), dash(cl(inc.Role(r))))
	}
	e := inc.Escalation
	if e.Policy != "" {
		row("policy", cl(e.Policy))
		row("step", fmt.Sprintf("%d/%d %s: paged %s", e.Step+1, max(e.Steps, e.Step+1), cl(e.StepName), dash(cl(strings.Join(e.Paged, ", ")))))
		if !e.NextAt.IsZero() {
			row("next", fmt.Sprintf("%s (in %s)", at(e.NextAt), e.NextAt.Sub(now).Round(time.Second)))
		}
	}
	tw.Flush()
	if inc.CommanderNeeded {
		fmt.Fprintf(w, "\n%s needs an incident commander: oncall incident assign %d --role ic @someone\n", inc.Severity, inc.ID)
	}
	if len(inc.Updates) > 0 {
		fmt.Fprintln(w, "\nStatus updates")
		for _, u := range inc.Updates {
			kind := "internal"
			if u.Public {
				kind = "public"
			}
			fmt.Fprintf(w, "  %s  %-8s  %s — %s\n", at(u.At), kind, cl(u.Text), cl(u.Actor))
		}
	}
	if len(inc.Tasks) > 0 {
		fmt.Fprintln(w, "\nTasks")
		for _, t := range inc.Tasks {
			box := "[ ]"
			if t.Done {
				box = "[x]"
			}
			fmt.Fprintf(w, "  %s %d. %s (%s)\n", box, t.ID, cl(t.Text), dash(cl(t.Owner)))
		}
	}
	fmt.Fprintln(w, "\nTimeline")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ev := range inc.Timeline {
		by := ""
		if ev.Actor != "" {
			by = cl(ev.Actor)
			if ev.Source != "" {
				by += " via " + cl(ev.Source)
			}
		} else if ev.Source != "" {
			by = cl(ev.Source)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", at(ev.At), cl(ev.Kind), cl(ev.Text), by)
	}
	tw.Flush()
}

func (a *cli) assignCmd() *cobra.Command {
	var role string
	c := &cobra.Command{
		Use:   "assign ID @USER",
		Short: "Give a role: --role ic (incident commander), comms (communications lead) or scribe; \"\" takes it away",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := incidents.ParseRole(role); err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			return a.incidentAction(cmd, args[0], "assign", client.Action{Role: role, User: strings.TrimPrefix(args[1], "@")})
		},
	}
	c.Flags().StringVar(&role, "role", "ic", "ic, comms or scribe")
	a.addOutputFlag(c)
	return c
}

func (a *cli) textActionCmd(action, short string) *cobra.Command {
	var public bool
	var title string
	c := &cobra.Command{
		Use: action + " ID TEXT", Short: short, Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			text := strings.Join(args[1:], " ")
			return a.incidentAction(cmd, args[0], action, client.Action{Text: text, Public: public, Title: title})
		},
	}
	if action == "update" {
		c.Flags().BoolVar(&public, "public", false, "publish it on the status page")
		c.Flags().StringVar(&title, "title", "", "with --public: what the status page calls the incident")
	}
	a.addOutputFlag(c)
	return c
}

func (a *cli) channelCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "channel ID CHANNEL",
		Short: "Make CHANNEL (a Slack channel ID, C0123ABCD) the incident's chat channel: the Slack bot keeps what is said there",
		Long: `channel links a Slack channel to the incident: from then on the Slack bot
(slack.signing_secret, POST /slack/events) keeps the channel's messages for
the incident's timeline and its postmortem. In Slack, "@oncall link INC-7"
in the channel does the same. The channel ID is at the bottom of the
channel's details.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := chat.ValidateChannel(args[1]); err != nil {
				return err
			}
			return a.incidentAction(cmd, args[0], "channel", client.Action{Channel: args[1]})
		},
	}
	a.addOutputFlag(c)
	return c
}

func (a *cli) severityCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "severity ID SEV", Short: "Change the severity (SEV1 worst … SEV4)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := incidents.ParseSeverity(args[1]); err != nil {
				return err
			}
			return a.incidentAction(cmd, args[0], "severity", client.Action{Severity: args[1]})
		},
	}
	a.addOutputFlag(c)
	return c
}

func (a *cli) taskCmd() *cobra.Command {
	c := &cobra.Command{Use: "task", Short: "Tasks of an incident: add, done"}
	var owner string
	add := &cobra.Command{
		Use: "add ID TEXT", Short: "Add a task (--owner: who does it)", Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.incidentAction(cmd, args[0], "tasks", client.Action{Text: strings.Join(args[1:], " "), Owner: strings.TrimPrefix(owner, "@")})
		},
	}
	add.Flags().StringVar(&owner, "owner", "", "who does it")
	a.addOutputFlag(add)
	done := &cobra.Command{
		Use: "done ID TASK", Short: "Mark task number TASK done", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil || n <= 0 {
				return fmt.Errorf("task %q: want its number (oncall incident show lists them)", args[1])
			}
			return a.incidentAction(cmd, args[0], fmt.Sprintf("tasks/%d/done", n), client.Action{})
		},
	}
	a.addOutputFlag(done)
	c.AddCommand(add, done)
	return c
}

func (a *cli) mergeCmd() *cobra.Command {
	var into string
	c := &cobra.Command{
		Use: "merge ID --into ID", Short: "Merge an incident into another: its alert groups, tasks and updates move there", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if into == "" {
				return errors.New("--into: name the incident to merge into")
			}
			id, err := parseIncidentID(into)
			if err != nil {
				return fmt.Errorf("--into: %w", err)
			}
			return a.incidentAction(cmd, args[0], "merge", client.Action{Into: id})
		},
	}
	c.Flags().StringVar(&into, "into", "", "the incident that stays")
	a.addOutputFlag(c)
	return c
}

// printChat writes the newest last messages of an incident's channel.
func printChat(w io.Writer, ms []chat.Message, last int) {
	fmt.Fprintf(w, "\nChat (%d messages", len(ms))
	if len(ms) > last {
		fmt.Fprintf(w, ", the newest %d", last)
		ms = ms[len(ms)-last:]
	}
	fmt.Fprintln(w, ")")
	for _, m := range ms {
		text := termtext.Clean(strings.ReplaceAll(m.Text, "\n", " ⏎ "))
		if !m.Edited.IsZero() {
			text += " (edited)"
		}
		indent := ""
		if m.Thread != "" {
			indent = "  ↳ "
		}
		fmt.Fprintf(w, "  %s  %s%s: %s\n", m.At.Local().Format("2006-01-02 15:04:05"), indent, termtext.Clean(m.Author), text)
	}
}
