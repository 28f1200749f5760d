package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	oncallapp "github.com/oncallhq/oncall/app"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/tui"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
	"github.com/oncallhq/oncall/tui/theme"
)

// runTUI opens the console against server.url, or against a server started
// in-process on a loopback port with a fresh token: the same code path.
func (a *cli) runTUI(cmd *cobra.Command, _ []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	c, err := findServer(ctx, cfg)
	switch {
	case err == nil:
		return a.attach(ctx, cfg, c)
	case !errors.Is(err, errNoServer):
		return err
	}
	err = a.runInProcess(ctx, cfg, "oncall", nil, nil)
	var busy *oncallapp.StateInUseError
	if errors.As(err, &busy) && busy.Owner != nil {
		// Another oncall runs on this state directory: show its state
		// rather than fight over it.
		if c, cerr := client.New(busy.Owner.URL, cfg.Server.Token); cerr == nil && c.Healthy(ctx) == nil {
			return a.attach(ctx, cfg, c)
		}
	}
	return err
}

// attach runs the console against a running server.
func (a *cli) attach(ctx context.Context, cfg config.Config, c *client.Client) error {
	if err := c.Healthy(ctx); err != nil {
		return fmt.Errorf("server %s: %w", c.URL(), err)
	}
	return tui.Run(ctx, a.consoleOptions(cfg, c, "oncall · "+c.URL()))
}

// consoleOptions are the console's options from the configuration and the
// flags.
func (a *cli) consoleOptions(cfg config.Config, c *client.Client, title string) tui.Options {
	mode, _ := theme.ParseMode(cfg.Console.Theme) // validated with the configuration
	return tui.Options{Backend: consoleBackend{Client: c, cfg: cfg}, User: cfg.User, Title: title, ReadOnly: cfg.Console.ReadOnly,
		Theme: mode, Mouse: cfg.Console.Mouse, LogLines: cfg.Console.LogLines, FixedRate: cfg.Console.Renderer == "fixed"}
}

// consoleBackend is the API client as the console sees it; cfg says
// where the postmortems are and who is on which schedule, for the review.
type consoleBackend struct {
	*client.Client
	cfg config.Config
}

// Act runs an incident action from the console.
func (b consoleBackend) Act(ctx context.Context, by string, a msg.Act) error {
	act := client.Action{By: by, Source: "console", Text: a.Text, Role: a.Role}
	if a.Action == "assign" {
		act.User = by
	}
	_, err := b.Client.Act(ctx, a.Incident, a.Action, act)
	return err
}

// Stream turns the client's stream events into the console's updates.
func (b consoleBackend) Stream(ctx context.Context, after uint64, backlog int, emit func(state.Update) error) error {
	return b.Client.Stream(ctx, client.StreamOptions{LogsAfter: after, LogsBacklog: backlog}, func(ev client.StreamEvent) error {
		u := state.Update{Logs: ev.Logs}
		if s := ev.State; s != nil {
			u.Alerts, u.Incidents, u.OnCall, u.Pages, u.Ready, u.Rules, u.Services, u.At = s.Alerts, s.Incidents, s.OnCall, s.Pages, s.Ready, s.Rules, s.Services, s.At
			if s.Groups != nil {
				gs := make([]state.Group, len(*s.Groups))
				for i, g := range *s.Groups {
					gs[i] = state.Group{Receiver: g.Receiver, Key: g.Key, Labels: g.Labels, Fingerprints: g.Fingerprints}
				}
				u.Groups = &gs
			}
		}
		return emit(u)
	})
}

// runInProcess starts the stack on a loopback port and runs the TUI (or,
// headless, waits) against it. Server logs go to a file: stderr belongs to
// the terminal UI.
func (a *cli) runInProcess(ctx context.Context, cfg config.Config, title string, setup func(s *oncallapp.Stack), headless func(s *oncallapp.Stack) error) error {
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.Token = oncallapp.RandomToken()
	log, closeLog, err := a.fileLogger(cfg)
	if err != nil {
		return err
	}
	defer closeLog()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if headless == nil {
		// The terminal hanging up (its window closed, tmux killed) ends the
		// console and the server under it, cleanly; headless, SIGHUP
		// reloads the rules as it does for serve.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGHUP)
		defer stop()
	}
	s, err := oncallapp.New(ctx, cfg, log, oncallapp.Options{Command: "the oncall console (" + title + ")", HangupQuits: headless == nil})
	if err != nil {
		return err
	}
	defer s.Close()
	if setup != nil {
		setup(s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if headless != nil {
		err = headless(s)
	} else {
		var c *client.Client
		if c, err = client.New(s.URL(), cfg.Server.Token); err == nil {
			err = tui.Run(ctx, a.consoleOptions(cfg, c, title))
		}
	}
	cancel()
	if serr := <-done; err == nil {
		err = serr
	}
	return err
}

// fileLogger logs to oncall.log in the state directory.
func (a *cli) fileLogger(cfg config.Config) (*slog.Logger, func(), error) {
	path := filepath.Join(cfg.StatePath(), "oncall.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	return slog.New(secret.NewHandler(slog.NewTextHandler(f, nil), secrets(cfg)...)), func() { f.Close() }, nil
}
