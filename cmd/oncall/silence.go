package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/termtext"
)

// parseSilenceMatchers reads matchers the way amtool does: name=value,
// name!=value, name=~regex, name!~regex; a first argument without an
// operator is the alertname.
func parseSilenceMatchers(args []string) (amlabels.Matchers, error) {
	var out amlabels.Matchers
	for i, s := range args {
		if i == 0 && !strings.ContainsAny(s, "=!~") {
			s = "alertname=" + s
		}
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			return nil, fmt.Errorf("matcher %q: %w", args[i], err)
		}
		out = append(out, m)
	}
	return out, nil
}

func (a *cli) silenceCmd() *cobra.Command {
	c := &cobra.Command{Use: "silence", Short: "Silences: mute matching alerts for a while (add, list, expire)"}
	var (
		dur     duration
		comment string
		author  string
		start   string
		all     bool
	)
	add := &cobra.Command{
		Use:   "add MATCHER...",
		Short: "Silence the alerts matching every matcher, e.g. service=checkout 'severity=~\"warning|info\"'",
		Long: `add creates a silence on the server: alerts matching every matcher are muted
(shown as silenced, notify nobody) until it ends. Matchers are Alertmanager's:
name=value, name!=value, name=~regex, name!~regex; a first argument with no
operator is an alertname. Prints the silence ID.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ms, err := parseSilenceMatchers(args)
			if err != nil {
				return err
			}
			if dur <= 0 {
				return fmt.Errorf("--for %v: must be positive", dur.String())
			}
			if strings.TrimSpace(comment) == "" {
				return errors.New("--comment: say why (it is shown to whoever finds the alert muted)")
			}
			cfg, c, err := a.serverClient(cmd.Context())
			if err != nil {
				return err
			}
			from := time.Now()
			if start != "" {
				if from, err = parseWhen(start, from); err != nil {
					return fmt.Errorf("--start: %w", err)
				}
			}
			if author == "" {
				author = cfg.User
			}
			id, err := c.AddSilence(cmd.Context(), silence.Silence{Matchers: ms, StartsAt: from, EndsAt: from.Add(time.Duration(dur)), CreatedBy: author, Comment: comment})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), id)
			return nil
		},
	}
	dur = duration(time.Hour)
	add.Flags().Var(&dur, "for", "how long the silence lasts (90m, 2h, 1d)")
	add.Flags().StringVar(&comment, "comment", "", "why (required)")
	add.Flags().StringVar(&author, "author", "", "who silences (default: user)")
	add.Flags().StringVar(&start, "start", "", "when it starts (default now): "+whenHelp)

	list := &cobra.Command{
		Use:   "list",
		Short: "List active and pending silences (--all: expired ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			_, c, err := a.serverClient(cmd.Context())
			if err != nil {
				return err
			}
			sils, err := c.Silences(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now()
			var shown []silence.Silence
			for _, s := range sils {
				if all || s.StateAt(now) != silence.StateExpired {
					shown = append(shown, s)
				}
			}
			if a.output == "json" {
				return writeJSON(cmd.OutOrStdout(), nonNilSilences(shown))
			}
			return printSilences(cmd.OutOrStdout(), shown, now)
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include expired silences")
	a.addOutputFlag(list)

	expire := &cobra.Command{
		Use:   "expire ID...",
		Short: "End silences now",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := a.serverClient(cmd.Context())
			if err != nil {
				return err
			}
			for _, id := range args {
				if err := c.ExpireSilence(cmd.Context(), id); err != nil {
					return fmt.Errorf("silence %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "expired %s\n", id)
			}
			return nil
		},
	}
	c.AddCommand(add, list, expire)
	return c
}

func nonNilSilences(s []silence.Silence) []silence.Silence {
	if s == nil {
		return []silence.Silence{}
	}
	return s
}

func printSilences(w io.Writer, sils []silence.Silence, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tMATCHERS\tENDS\tBY\tCOMMENT")
	for _, s := range sils {
		ends := s.EndsAt.Local().Format("2006-01-02 15:04")
		if st := s.StateAt(now); st == silence.StateActive {
			ends += " (in " + s.EndsAt.Sub(now).Round(time.Minute).String() + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", termtext.Clean(s.ID), s.StateAt(now), termtext.Clean(s.Matchers.String()), ends, termtext.Clean(s.CreatedBy), termtext.Clean(s.Comment))
	}
	return tw.Flush()
}
