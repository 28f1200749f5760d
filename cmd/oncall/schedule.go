package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/termtext"
)

func (a *cli) whoCmd() *cobra.Command {
	var at, policy, service string
	var scheds []string
	c := &cobra.Command{
		Use:   "who",
		Short: "Who is on call now and next: each step of a policy, each schedule, with hand-off times",
		Long: `who answers from the configuration's schedules and policies (no server needed:
it works when nothing else does); a configuration without any asks the server.
By default it shows the main policy (oncall_policy) and every schedule it reads.

  oncall who
  oncall who --service checkout
  oncall who --at 'tomorrow 03:00'   (or +12h, 2026-12-24T03:00)
  oncall who --schedule platform --schedule ic`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			now := time.Now()
			when, err := parseWhen(at, now)
			if err != nil {
				return fmt.Errorf("--at: %w", err)
			}
			if when.IsZero() {
				when = now
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			var ans schedule.Who
			if len(cfg.Schedules) == 0 && len(cfg.Policies) == 0 {
				c, err := findServer(cmd.Context(), cfg)
				if err != nil {
					return fmt.Errorf("the configuration has no schedules or policies, and %w", err)
				}
				if ans, err = c.Who(cmd.Context(), when, policy, service, scheds...); err != nil {
					return err
				}
			} else if ans, err = localWho(cfg, when, policy, service, scheds); err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), ans)
			}
			printWho(cmd.OutOrStdout(), ans, time.Local)
			return nil
		},
	}
	c.Flags().StringVar(&at, "at", "", "when (default now): "+whenHelp)
	c.Flags().StringVar(&policy, "policy", "", "this escalation policy's steps")
	c.Flags().StringVar(&service, "service", "", "the steps of this service's policy (from the catalogue)")
	c.Flags().StringArrayVar(&scheds, "schedule", nil, "this schedule (repeat for more)")
	a.addOutputFlag(c)
	return c
}

// localWho answers who is on call from the configuration alone.
func localWho(cfg config.Config, at time.Time, policy, service string, scheds []string) (schedule.Who, error) {
	people := cfg.People()
	if service != "" {
		s, ok := cfg.Catalog().Get(service)
		switch {
		case !ok:
			return schedule.Who{}, fmt.Errorf("--service: unknown service %q (the catalogue has %s)", service, serviceNames(cfg))
		case s.Policy == "":
			return schedule.Who{}, fmt.Errorf("--service: service %q names no escalation policy", service)
		}
		policy = s.Policy
	}
	if policy == "" && len(scheds) == 0 {
		policy = cfg.OnCallPolicy
		if policy == "" && len(cfg.Policies) > 0 {
			policy = cfg.Policies[0].Name
		}
	}
	if policy != "" {
		if _, ok := people.Policies[policy]; !ok {
			return schedule.Who{}, fmt.Errorf("unknown policy %q", policy)
		}
		if len(scheds) == 0 {
			p, _ := people.Freeze(policy)
			for _, s := range p.Steps {
				for _, t := range s.Targets {
					if t.Schedule != "" && !slices.Contains(scheds, t.Schedule) {
						scheds = append(scheds, t.Schedule)
					}
				}
			}
		}
	}
	return people.Who(at, policy, scheds...)
}

func serviceNames(cfg config.Config) string {
	var names []string
	for _, s := range cfg.Services {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return "no services"
	}
	return strings.Join(names, ", ")
}

// printWho writes the answer in loc.
func printWho(w io.Writer, ans schedule.Who, loc *time.Location) {
	cl := termtext.Clean
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("Mon 02 Jan 15:04 MST")
	}
	people := func(us []string) string {
		if len(us) == 0 {
			return "nobody"
		}
		return cl(strings.Join(us, ", "))
	}
	fmt.Fprintf(w, "On call at %s\n", when(ans.At))
	if ans.Policy != "" {
		fmt.Fprintf(w, "\nPolicy %s\n", cl(ans.Policy))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STEP\tNAME\tNOW\tUNTIL\tNEXT\tDELAY\tFROM")
		for _, s := range ans.Steps {
			next := "-"
			if !s.Until.IsZero() {
				next = people(s.Next)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Step+1, cl(s.StepName), people(s.Users), when(s.Until), next, model.Duration(s.Delay), cl(strings.Join(s.Targets, ", ")))
		}
		tw.Flush()
	}
	if len(ans.Schedules) > 0 {
		fmt.Fprintln(w, "\nSchedules")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SCHEDULE\tNOW\tHAND-OFF\tNEXT")
		for _, s := range ans.Schedules {
			next := "-"
			if !s.Until.IsZero() {
				next = people(s.Next)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cl(s.Schedule), people(s.Users), when(s.Until), next)
		}
		tw.Flush()
	}
}

func (a *cli) scheduleCmd() *cobra.Command {
	c := &cobra.Command{Use: "schedule", Aliases: []string{"schedules"},
		Short: "Schedules from the configuration: list, show a timeline, lint coverage, export iCalendar"}
	c.AddCommand(a.scheduleListCmd(), a.scheduleShowCmd(), a.scheduleLintCmd(), a.scheduleICalCmd())
	return c
}

// people loads the configuration's schedules, refusing one without any.
func (a *cli) people() (config.Config, schedule.Directory, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return cfg, schedule.Directory{}, err
	}
	if len(cfg.Schedules) == 0 {
		where := cfg.File
		if where == "" {
			where = "the configuration (none found; --config names one)"
		}
		return cfg, schedule.Directory{}, fmt.Errorf("%s has no schedules", where)
	}
	return cfg, cfg.People(), nil
}

func knownSchedule(d schedule.Directory, name string) error {
	if _, ok := d.Schedules[name]; ok {
		return nil
	}
	var names []string
	for n := range d.Schedules {
		names = append(names, n)
	}
	slices.Sort(names)
	return fmt.Errorf("unknown schedule %q (schedules: %s)", name, strings.Join(names, ", "))
}

// spanFlags reads --from and --to (default: now and two weeks on).
type spanFlags struct{ from, to string }

func (s *spanFlags) add(c *cobra.Command, def string) {
	c.Flags().StringVar(&s.from, "from", "", "start (default now): "+whenHelp)
	c.Flags().StringVar(&s.to, "to", "", "end (default "+def+"): "+whenHelp)
}

func (s spanFlags) read(now time.Time, length time.Duration) (time.Time, time.Time, error) {
	from, err := parseWhen(s.from, now)
	if err != nil {
		return from, from, fmt.Errorf("--from: %w", err)
	}
	if from.IsZero() {
		from = now
	}
	to, err := parseWhen(s.to, from)
	if err != nil {
		return from, to, fmt.Errorf("--to: %w", err)
	}
	if to.IsZero() {
		to = from.Add(length)
	}
	if !to.After(from) {
		return from, to, fmt.Errorf("--to %s is not after --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > 367*24*time.Hour {
		return from, to, errors.New("--from to --to spans more than a year")
	}
	return from, to, nil
}

func (a *cli) scheduleListCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "list", Short: "Every schedule: its time zone, rules and who is on call now", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			cfg, d, err := a.people()
			if err != nil {
				return err
			}
			var names []string
			for _, s := range cfg.Schedules {
				names = append(names, s.Name)
			}
			ans, err := d.Who(time.Now(), "", names...)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), ans.Schedules)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCHEDULE\tTIME ZONE\tRULES\tOVERRIDES\tNOW\tHAND-OFF")
			for i, s := range cfg.Schedules {
				now := ans.Schedules[i]
				rules := len(s.Rules)
				if len(s.Users) > 0 {
					rules = 1
				}
				until := "-"
				if !now.Until.IsZero() {
					until = now.Until.Local().Format("Mon 02 Jan 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", termtext.Clean(s.Name), dash(s.TimeZone), rules, len(s.Overrides), dash(termtext.Clean(strings.Join(now.Users, ", "))), until)
			}
			return tw.Flush()
		},
	}
	a.addOutputFlag(c)
	return c
}

func (a *cli) scheduleShowCmd() *cobra.Command {
	var span spanFlags
	var offset int
	c := &cobra.Command{
		Use:   "show SCHEDULE",
		Short: "Draw who covers each half hour as a text timeline, then list the shifts",
		Long: `show draws the schedule's coverage day by day in the schedule's time zone, one
character per half hour (the letter of who is on call, · for nobody, + for
more than one), then lists every shift. --offset 1 shows the secondary.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			_, d, err := a.people()
			if err != nil {
				return err
			}
			if err := knownSchedule(d, args[0]); err != nil {
				return err
			}
			from, to, err := span.read(time.Now(), 14*24*time.Hour)
			if err != nil {
				return err
			}
			spans := d.Spans(args[0], from, to, offset)
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), spans)
			}
			loc, _ := time.LoadLocation(d.Schedules[args[0]].TimeZone)
			if loc == nil {
				loc = time.UTC
			}
			drawTimeline(cmd.OutOrStdout(), args[0], spans, from, to, loc)
			return nil
		},
	}
	span.add(c, "two weeks on")
	c.Flags().IntVar(&offset, "offset", 0, "position along the rotations (1: the secondary)")
	a.addOutputFlag(c)
	return c
}

// drawTimeline writes spans as one line a day of half-hour cells in loc,
// a legend, and the list of shifts.
func drawTimeline(w io.Writer, name string, spans []schedule.Span, from, to time.Time, loc *time.Location) {
	letters := map[string]byte{}
	var order []string
	letter := func(u string) byte {
		if l, ok := letters[u]; ok {
			return l
		}
		l := byte('A' + len(order)%26)
		letters[u] = l
		order = append(order, u)
		return l
	}
	at := func(t time.Time) []string {
		for _, s := range spans {
			if !t.Before(s.Start) && t.Before(s.End) {
				return s.Users
			}
		}
		return nil
	}
	fmt.Fprintf(w, "%s · %s · %s → %s\n\n", termtext.Clean(name), loc, from.In(loc).Format("Mon 02 Jan 15:04"), to.In(loc).Format("Mon 02 Jan 15:04"))
	fmt.Fprintf(w, "%-11s", "")
	for h := 0; h < 24; h += 3 {
		fmt.Fprintf(w, "%-6s", fmt.Sprintf("%02d", h))
	}
	fmt.Fprintln(w)
	lf := from.In(loc)
	for day := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc); day.Before(to); day = day.AddDate(0, 0, 1) {
		var b strings.Builder
		for cell := range 48 {
			t := time.Date(day.Year(), day.Month(), day.Day(), cell/2, 30*(cell%2), 0, 0, loc)
			switch us := at(t); {
			case t.Before(from) || !t.Before(to):
				b.WriteByte(' ')
			case len(us) == 0:
				b.WriteString("·")
			case len(us) > 1:
				for _, u := range us {
					letter(u)
				}
				b.WriteByte('+')
			default:
				b.WriteByte(letter(us[0]))
			}
		}
		fmt.Fprintf(w, "%-11s%s\n", day.Format("Mon 02 Jan"), b.String())
	}
	fmt.Fprintln(w)
	var legend []string
	for _, u := range order {
		legend = append(legend, fmt.Sprintf("%c %s", letters[u], termtext.Clean(u)))
	}
	fmt.Fprintln(w, strings.Join(append(legend, "· nobody", "+ more than one"), "   "))
	fmt.Fprintln(w, "\nShifts")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range spans {
		who := "nobody"
		if len(s.Users) > 0 {
			who = termtext.Clean(strings.Join(s.Users, ", "))
		}
		fmt.Fprintf(tw, "  %s\t→ %s\t%s\t%s\n", s.Start.In(loc).Format("Mon 02 Jan 15:04"), s.End.In(loc).Format("Mon 02 Jan 15:04"), who, roundSpan(s.End.Sub(s.Start)))
	}
	tw.Flush()
}

// roundSpan writes a shift's length as days and hours.
func roundSpan(d time.Duration) string {
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	mins := int(d % time.Hour / time.Minute)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case mins > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dh", hours)
}

func (a *cli) scheduleLintCmd() *cobra.Command {
	var span spanFlags
	c := &cobra.Command{
		Use:   "lint [SCHEDULE...]",
		Short: "Report uncovered hours and on-call stretches longer than max_stretch (exit 1 if any)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			cfg, d, err := a.people()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				for _, s := range cfg.Schedules {
					args = append(args, s.Name)
				}
			}
			from, to, err := span.read(time.Now(), 28*24*time.Hour)
			if err != nil {
				return err
			}
			findings := []schedule.Finding{}
			for _, n := range args {
				if err := knownSchedule(d, n); err != nil {
					return err
				}
				findings = append(findings, d.Lint(n, from, to)...)
			}
			out := cmd.OutOrStdout()
			if a.output == "json" {
				if err := writeJSON(out, findings); err != nil {
					return err
				}
			} else {
				for _, f := range findings {
					fmt.Fprintf(out, "%s: %s: %s\n", termtext.Clean(f.Schedule), f.Check, termtext.Clean(f.Message))
				}
				if len(findings) == 0 {
					fmt.Fprintf(out, "%d schedules cover every hour from %s to %s, no stretch too long\n", len(args), from.Format("2006-01-02 15:04"), to.Format("2006-01-02 15:04"))
				}
			}
			if len(findings) > 0 {
				return errSilent
			}
			return nil
		},
	}
	span.add(c, "four weeks on")
	a.addOutputFlag(c)
	return c
}

func (a *cli) scheduleICalCmd() *cobra.Command {
	var span spanFlags
	var user, file string
	c := &cobra.Command{
		Use:   "ical [SCHEDULE] [--user USER]",
		Short: "Export shifts as iCalendar (.ics), of a schedule or of one person across every schedule",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, d, err := a.people()
			if err != nil {
				return err
			}
			from, to, err := span.read(time.Now(), 90*24*time.Hour)
			if err != nil {
				return err
			}
			var name string
			var events []schedule.Event
			switch {
			case len(args) == 1 && user != "":
				return errors.New("give a schedule or --user, not both")
			case len(args) == 1:
				if err := knownSchedule(d, args[0]); err != nil {
					return err
				}
				name, events = args[0], d.ScheduleEvents(args[0], from, to)
			case user != "":
				if _, ok := d.Users[user]; !ok {
					return fmt.Errorf("--user: unknown user %q", user)
				}
				name, events = "on call: "+user, d.UserEvents(user, from, to)
			default:
				return errors.New("give a schedule, or --user for one person's shifts")
			}
			out := cmd.OutOrStdout()
			if file != "" && file != "-" {
				f, err := os.Create(file)
				if err != nil {
					return err
				}
				defer f.Close()
				out = f
			}
			return schedule.WriteICal(out, name, events, time.Now())
		},
	}
	span.add(c, "90 days on")
	c.Flags().StringVar(&user, "user", "", "one person's shifts in every schedule")
	c.Flags().StringVarP(&file, "file", "f", "", "write to this file (default stdout)")
	return c
}
