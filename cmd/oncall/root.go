package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/internal/cgroup"
	"github.com/oncallhq/oncall/secret"
)

// cli holds what every command shares: flags bound through viper.
type cli struct {
	v       *viper.Viper
	output  string
	profile *os.File // the CPU profile being written, if asked
	heap    string   // where to write a heap profile at the end, if asked
}

// startProfile starts the CPU profile --cpu-profile asks for.
func (a *cli) startProfile(cmd *cobra.Command) error {
	a.heap, _ = cmd.Flags().GetString("heap-profile")
	path, _ := cmd.Flags().GetString("cpu-profile")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--cpu-profile: %w", err)
	}
	a.profile = f
	return pprof.StartCPUProfile(f)
}

// stopProfile ends the CPU profile, if one is written, and writes the
// heap profile, if one is asked for.
func (a *cli) stopProfile() {
	if a.profile != nil {
		pprof.StopCPUProfile()
		a.profile.Close()
	}
	if a.heap == "" {
		return
	}
	f, err := os.Create(a.heap)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--heap-profile:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "--heap-profile:", err)
	}
}

func newRoot() *cobra.Command {
	a := &cli{v: viper.New()}
	root := &cobra.Command{
		Use:   "oncall",
		Short: "The on-call engineer's console: alerts, incidents, escalation, logs and metrics",
		Long: `oncall is one binary for the engineer on call. With no subcommand it opens the
console (TUI) against the configured server, or starts one in-process.

Try it with nothing configured:  oncall demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noSubcommand,
		RunE:          a.runTUI,
		Version:       versionString(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := logLevel(a.v.GetString("log_level")); err != nil {
				return err
			}
			return a.startProfile(cmd)
		},
		PersistentPostRun: func(*cobra.Command, []string) { a.stopProfile() },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.String("config", "", "configuration file (default: $ONCALL_CONFIG, else ./oncall.yaml if present)")
	pf.String("server", "", "oncall server URL (config server.url, env ONCALL_SERVER_URL)")
	pf.String("user", "", "who you are, for acknowledgements (config user, env ONCALL_USER)")
	pf.String("log-level", "info", "server log level: debug, info, warn, error")
	pf.String("theme", "", "console colours: auto, dark or light (config console.theme)")
	pf.Bool("read-only", false, "console: look, never acknowledge, resolve or silence (config console.read_only)")
	pf.Bool("mouse", false, "console: the wheel scrolls, a click on a tab opens it (config console.mouse)")
	pf.String("cpu-profile", "", "write a CPU profile of the run to this file (for diagnosing)")
	pf.MarkHidden("cpu-profile")
	pf.String("heap-profile", "", "write a heap profile to this file when the run ends (for diagnosing)")
	pf.MarkHidden("heap-profile")
	a.v.BindPFlag("config", pf.Lookup("config"))
	a.v.BindPFlag("server.url", pf.Lookup("server"))
	a.v.BindPFlag("user", pf.Lookup("user"))
	a.v.BindPFlag("log_level", pf.Lookup("log-level"))
	a.v.BindPFlag("console.theme", pf.Lookup("theme"))
	a.v.BindPFlag("console.read_only", pf.Lookup("read-only"))
	a.v.BindPFlag("console.mouse", pf.Lookup("mouse"))
	a.v.SetEnvPrefix("ONCALL")
	a.v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	a.v.AutomaticEnv()
	root.AddCommand(a.serveCmd(), a.demoCmd(), a.queryCmd(), group(a.alertsCmd()), group(a.rulesCmd()), a.logsCmd(), a.initCmd(), group(a.configCmd()), group(a.silenceCmd()),
		group(a.incidentCmd()), a.whoCmd(), group(a.scheduleCmd()), a.checklistCmd(), group(a.postmortemCmd()))
	return root
}

// group makes c a command that only holds subcommands: bare, it prints its
// help; with anything else it fails and suggests the nearest subcommand.
func group(c *cobra.Command) *cobra.Command {
	c.Args = noSubcommand
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return c
}

// noSubcommand refuses arguments to a command that takes none: an unknown
// subcommand is an error (exit 1), never help and success.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	if len(names) > 0 {
		msg += " (commands: " + strings.Join(names, ", ") + ")"
	}
	return errors.New(msg)
}

// logLevel parses --log-level; anything but debug, info, warn or error is
// an error rather than silently info.
func logLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
}

// overridable lists the keys that environment variables and flags may set
// over the file.
var overridable = []string{"user", "state_dir", "server.url", "server.token", "server.listen", "metrics.prometheus.url", "metrics.prometheus.bearer_token",
	"console.theme", "console.read_only", "console.mouse", "console.log_lines", "console.renderer", "slack.signing_secret", "slack.bot_token", "slack.app_token"}

// loadConfig reads the configuration file (if any) and applies environment
// and flag overrides through viper.
func (a *cli) loadConfig() (config.Config, error) {
	path := a.v.GetString("config")
	if path == "" {
		if _, err := os.Stat("oncall.yaml"); err == nil {
			path = "oncall.yaml"
		}
	}
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return cfg, err
		}
	}
	for _, key := range overridable {
		if !a.v.IsSet(key) || a.v.GetString(key) == "" {
			continue
		}
		val := a.v.GetString(key)
		env := "ONCALL_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if v, ok := os.LookupEnv(env); ok && v == val {
			cfg.SetFrom(key, "$"+env)
		} else {
			cfg.SetFrom(key, "a flag")
		}
		switch key {
		case "user":
			cfg.User = val
		case "state_dir":
			cfg.StateDir = val
		case "server.url":
			cfg.Server.URL = val
		case "server.token":
			cfg.Server.Token = val
		case "server.listen":
			cfg.Server.Listen = val
		case "metrics.prometheus.url":
			cfg.Metrics.Prometheus.URL = val
		case "metrics.prometheus.bearer_token":
			cfg.Metrics.Prometheus.BearerToken = val
		case "slack.signing_secret":
			cfg.Slack.SigningSecret = val
		case "slack.bot_token":
			cfg.Slack.BotToken = val
		case "slack.app_token":
			cfg.Slack.AppToken = val
		case "console.theme":
			cfg.Console.Theme = val
		case "console.renderer":
			cfg.Console.Renderer = val
		case "console.read_only", "console.mouse":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return cfg, fmt.Errorf("%s %q: want true or false", env, val)
			}
			if key == "console.read_only" {
				cfg.Console.ReadOnly = b
			} else {
				cfg.Console.Mouse = b
			}
		case "console.log_lines":
			n, err := strconv.Atoi(val)
			if err != nil {
				return cfg, fmt.Errorf("ONCALL_CONSOLE_LOG_LINES %q: not a whole number", val)
			}
			cfg.Console.LogLines = n
		}
	}
	if cfg.User == "" {
		cfg.User = os.Getenv("USER")
	}
	if cfg.User == "" {
		cfg.User = "you"
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	debug.SetGCPercent(cfg.Runtime.GCPercent(os.Getenv("GOGC")))
	cg, inCgroup, err := cgroup.Self()
	if limit, ok := cfg.Runtime.MemoryLimit(os.Getenv("GOMEMLIMIT"), cg, inCgroup && err == nil); ok {
		debug.SetMemoryLimit(limit)
	}
	return cfg, nil
}

// logger logs to stderr at the chosen level, with every secret of cfg
// (and every password in a URL) hidden.
func (a *cli) logger(cfg config.Config) *slog.Logger {
	lvl, _ := logLevel(a.v.GetString("log_level")) // checked before any command runs
	return slog.New(secret.NewHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}), secrets(cfg)...))
}

// secrets are the configuration's credentials, hidden wherever they would
// be printed.
func secrets(cfg config.Config) []string {
	return cfg.Secrets()
}

func (a *cli) addOutputFlag(c *cobra.Command) {
	c.Flags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
}

func (a *cli) checkOutput() error {
	if a.output != "table" && a.output != "json" {
		return fmt.Errorf("--output %q: want table or json", a.output)
	}
	return nil
}
