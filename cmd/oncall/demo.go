package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	oncallapp "github.com/oncallhq/oncall/app"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/demo"
	"github.com/oncallhq/oncall/demo/platform"
)

// demoLogLines is the log window of the demo's console and server.
const demoLogLines = 20_000

func (a *cli) demoCmd() *cobra.Command {
	var (
		faults   string
		stateDir string
		seed     int64
		headless bool
		keep     bool
	)
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run oncall against a synthetic matchmaking platform that breaks on schedule",
		Long: `demo starts a synthetic "matchmaking" service (real /metrics on a loopback port,
real JSON logs) and the real oncall against it: embedded scraper and TSDB,
Prometheus-format rules, alert engine, incident escalation and the console.

By default, 30 seconds in, matches per active user collapse and the error
ratio jumps: a business alert fires, an incident opens and pages the primary
on-call, and escalates every 45 seconds until you acknowledge it (press a).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := platform.DefaultFaults()
			if cmd.Flags().Changed("faults") {
				var err error
				if fs, err = platform.ParseFaults(faults); err != nil {
					return fmt.Errorf("--faults: %w", err)
				}
			}
			dir, cleanup, err := demoDir(stateDir, keep)
			if err != nil {
				return err
			}
			if _, err := demo.Write(dir); err != nil {
				return err
			}
			logFile := filepath.Join(dir, "matchmaking.log")
			p, err := platform.New(platform.Options{Addr: "127.0.0.1:0", LogPath: logFile, Faults: fs, Seed: seed})
			if err != nil {
				return err
			}
			defer p.Close()
			cfg, err := demo.Config(dir, p.MetricsURL(), logFile)
			if err != nil {
				return err
			}
			user, err := a.loadConfig()
			if err != nil {
				return err
			}
			cfg.User, cfg.Console = user.User, user.Console
			if cfg.Console.LogLines == config.Default().Console.LogLines {
				// The demo logs a few lines a second for as long as it runs:
				// a smaller window keeps its memory level (it holds two, the
				// server's and the console's).
				cfg.Console.LogLines = demoLogLines
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			// History first: twelve healthy minutes, so "the last 10
			// minutes" baselines have data; then the live platform, whose
			// fault schedule counts from now.
			setup := func(s *oncallapp.Stack) {
				s.Warmup = func(ctx context.Context) {
					now := time.Now()
					p.Backfill(now.Add(-12*time.Minute), now, cfg.Metrics.Scrape.Interval, func(at time.Time) {
						s.Embedded().ScrapeOnce(ctx, at)
					})
					go p.Run(ctx, 500*time.Millisecond)
				}
			}
			var wait func(*oncallapp.Stack) error
			if headless {
				wait = func(s *oncallapp.Stack) error {
					fmt.Fprintf(cmd.OutOrStdout(), "oncall demo: API %s (token %s)\nstate, rules, pages.log and logs in %s\n", s.URL(), s.Config().Server.Token, dir)
					<-ctx.Done()
					return nil
				}
			}
			err = a.runInProcess(ctx, cfg, "oncall demo", setup, wait)
			if err == nil && cleanup != nil {
				p.Close()
				return cleanup()
			}
			// Kept on request, or to show what went wrong.
			markKept(dir)
			fmt.Fprintf(cmd.ErrOrStderr(), "oncall demo: configuration, rules, pages.log and logs are in %s\n", dir)
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&faults, "faults", "", `fault schedule, e.g. "match-collapse@30s+3m:match=0.1,errors=0.12,latency=4"; "none" disables faults`)
	f.StringVar(&stateDir, "state-dir", "", "directory for the demo's state, kept afterwards (default: one under $XDG_STATE_HOME/oncall/demo, removed on exit)")
	f.BoolVar(&keep, "keep", false, "keep the demo's state directory after it exits")
	f.Int64Var(&seed, "seed", 1, "random seed of the synthetic platform")
	f.BoolVar(&headless, "headless", false, "run without the TUI; print the API address and wait")
	return c
}

// demoDir is the demo's state directory: the one given (kept), else a new
// one under the user's state directory, removed on a clean exit unless
// keep. Directories that earlier demos left behind (killed before they
// could clean up) are removed first.
func demoDir(given string, keep bool) (dir string, cleanup func() error, err error) {
	if given != "" {
		return given, nil, os.MkdirAll(given, 0o700)
	}
	root := filepath.Join(config.Config{}.StatePath(), "demo")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", nil, err
	}
	removeAbandoned(root)
	dir = filepath.Join(root, strconv.Itoa(os.Getpid()))
	if err := os.RemoveAll(dir); err != nil {
		return "", nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", nil, err
	}
	if keep {
		return dir, nil, markKept(dir)
	}
	return dir, func() error { return os.RemoveAll(dir) }, nil
}

// removeAbandoned removes the demo directories of processes that are gone.
func removeAbandoned(root string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), ".keep")); err == nil {
			continue
		}
		os.RemoveAll(filepath.Join(root, e.Name()))
	}
}

// alive reports whether a process with that pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// markKept makes later demos leave dir alone.
func markKept(dir string) error {
	return os.WriteFile(filepath.Join(dir, ".keep"), nil, 0o600)
}
