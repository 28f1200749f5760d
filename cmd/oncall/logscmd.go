package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/termtext"
)

func (a *cli) logsCmd() *cobra.Command {
	var (
		filter, since, until string
		follow, count        bool
		journal              string
		lokiURL, logql       string
		lokiTenant           string
	)
	c := &cobra.Command{
		Use:   "logs [FILE|GLOB|-]...",
		Short: "Search and follow logs with the oncall filter language",
		Long: `logs reads log files (JSON lines, logfmt or plain text), standard input ("-"),
the configured logs.files, or the buffer of the server at server.url, and prints
the lines the filter selects.

Filter terms, all of which must match:
  payment declined      substring (case-insensitive when all lower-case)
  "exact phrase"  /re?gex/   level>=warn   service=api   service!=api
  status>=500   duration>1s   user_id=~^u00   trace=abc123   -exclude`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			f, err := logs.ParseFilter(filter)
			if err != nil {
				return fmt.Errorf("--filter %q: %s", filter, strings.TrimPrefix(err.Error(), "filter: "))
			}
			var opts logs.GrepOptions
			now := time.Now()
			if opts.Since, err = parseWhen(since, now); err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			if opts.Until, err = parseWhen(until, now); err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<20)
			defer out.Flush()
			p := &logPrinter{w: out, json: a.output == "json", count: count, clean: isTerminal(os.Stdout)}
			opts.Parse = p.json
			paths := args
			if len(paths) == 0 {
				paths = cfg.Logs.Files
			}
			switch {
			case lokiURL != "":
				err = grepLoki(cmd.Context(), lokiURL, lokiTenant, logql, f, opts, follow, p)
			case cmd.Flags().Changed("journal"):
				err = grepJournal(cmd.Context(), journal, f, opts, follow, p)
			case len(paths) > 0:
				err = grepFiles(cmd.Context(), paths, f, opts, follow, p, cmd.InOrStdin())
			case cfg.Server.URL == "" && !isTerminal(os.Stdin):
				_, err = p.grep(cmd.InOrStdin(), f, opts, p.emit)
			default:
				c, ferr := findServer(cmd.Context(), cfg)
				if ferr != nil {
					return fmt.Errorf("no logs to read: name files, set logs.files, pipe into oncall logs, or run oncall serve (%v)", ferr)
				}
				err = printSource(cmd.Context(), &client.LogSource{Client: c}, f, opts, follow, p)
			}
			if count {
				fmt.Fprintln(out, p.n)
			}
			if p.cut > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "oncall: %d lines longer than %d bytes were cut there\n", p.cut, logs.MaxLineBytes)
			}
			return err
		},
	}
	fl := c.Flags()
	fl.StringVarP(&filter, "filter", "e", "", "filter expression (see above)")
	fl.StringVar(&since, "since", "", "only lines at or after this time: "+whenHelp)
	fl.StringVar(&until, "until", "", "only lines before this time: "+whenHelp)
	fl.BoolVarP(&follow, "follow", "f", false, "keep reading as lines are written (rotation-safe)")
	fl.BoolVarP(&count, "count", "c", false, "print only the number of matching lines")
	fl.StringVar(&journal, "journal", "", `read the systemd journal through journalctl -o json ("" for all units, or a unit name)`)
	fl.Lookup("journal").NoOptDefVal = " "
	fl.StringVar(&lokiURL, "loki", "", "read from a Grafana Loki at this URL (with --logql)")
	fl.StringVar(&logql, "logql", `{job=~".+"}`, "LogQL stream selector for --loki")
	fl.StringVar(&lokiTenant, "loki-tenant", "", "X-Scope-OrgID for a multi-tenant Loki")
	a.addOutputFlag(c)
	return c
}

// logPrinter writes matches as raw lines, or as JSON entries with -o json.
type logPrinter struct {
	w     *bufio.Writer
	json  bool
	count bool
	n     uint64
	cut   uint64 // lines longer than logs.MaxLineBytes, cut there
	// clean shows control characters visibly (on a terminal, where they
	// would be obeyed); piped, lines pass byte for byte.
	clean bool
}

// grep runs logs.Grep and keeps count of the lines it had to cut.
func (p *logPrinter) grep(r io.Reader, f logs.Filter, opts logs.GrepOptions, emit func([]byte, *logs.Entry) error) (logs.GrepStats, error) {
	st, err := logs.Grep(r, f, opts, emit)
	p.cut += st.LongLines
	return st, err
}

func (p *logPrinter) emit(line []byte, e *logs.Entry) error {
	p.n++
	if p.count {
		return nil
	}
	if p.json {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		p.w.Write(b)
		return p.w.WriteByte('\n')
	}
	if p.clean {
		p.w.WriteString(termtext.Clean(string(line)))
	} else {
		p.w.Write(line)
	}
	return p.w.WriteByte('\n')
}

// entry prints an entry: as written when it kept its raw line (followed
// from a file), else formatted (from the server, Loki, the journal).
func (p *logPrinter) entry(e logs.Entry) error {
	if p.json {
		return p.emit(nil, &e)
	}
	if e.Raw != "" {
		return p.emit([]byte(e.Raw), &e) // a followed line prints as the history did
	}
	var b strings.Builder
	if !e.Time.IsZero() {
		b.WriteString(e.Time.Format(time.RFC3339Nano) + " ")
	}
	fmt.Fprintf(&b, "%-5s %s %s", e.Level, e.Service, e.Message)
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, e.Fields[k])
	}
	if e.TraceID != "" {
		b.WriteString(" trace=" + e.TraceID)
	}
	return p.emit([]byte(b.String()), &e)
}

func grepFiles(ctx context.Context, patterns []string, f logs.Filter, opts logs.GrepOptions, follow bool, p *logPrinter, stdin io.Reader) error {
	var files []string
	for _, pat := range patterns {
		if pat == "-" {
			files = append(files, "-")
			continue
		}
		m, err := filepath.Glob(pat)
		if err != nil {
			return fmt.Errorf("%q: %w", pat, err)
		}
		if len(m) == 0 && !follow {
			return fmt.Errorf("%q: no such file", pat)
		}
		files = append(files, m...)
	}
	var tailers []*logs.Tailer
	for _, name := range files {
		if name == "-" {
			if _, err := p.grep(stdin, f, opts, p.emit); err != nil {
				return fmt.Errorf("stdin: %w", err)
			}
			continue
		}
		fh, err := os.Open(name)
		if err != nil {
			return err
		}
		size, _ := fh.Seek(0, io.SeekEnd)
		fh.Seek(0, io.SeekStart)
		_, err = p.grep(io.LimitReader(fh, size), f, opts, p.emit)
		if err != nil {
			fh.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		if !follow {
			fh.Close()
			continue
		}
		// Follow from the very file searched, even if it is rotated away
		// before the first poll.
		tl, err := logs.NewTailerFrom(fh, name, size)
		if err != nil {
			fh.Close()
			return err
		}
		tl.KeepRaw = true
		tailers = append(tailers, tl)
	}
	if !follow {
		return nil
	}
	p.w.Flush()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		for _, tl := range tailers {
			es, err := tl.Poll()
			for _, e := range es {
				if f.Match(&e) {
					p.entry(e)
				}
			}
			if err != nil {
				return err
			}
		}
		p.w.Flush()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// grepJournal reads the systemd journal as journalctl's JSON export.
func grepJournal(ctx context.Context, unit string, f logs.Filter, opts logs.GrepOptions, follow bool, p *logPrinter) error {
	bin, err := exec.LookPath("journalctl")
	if err != nil {
		return errors.New("--journal: journalctl not found (is this a systemd host?)")
	}
	args := []string{"-o", "json", "--no-pager"}
	if u := strings.TrimSpace(unit); u != "" {
		args = append(args, "-u", u)
	}
	if !opts.Since.IsZero() {
		args = append(args, "--since", opts.Since.Format("2006-01-02 15:04:05"))
	}
	if follow {
		args = append(args, "-f")
	}
	c := exec.CommandContext(ctx, bin, args...)
	out, err := c.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		return fmt.Errorf("journalctl: %w", err)
	}
	gerr := printSource(ctx, &logs.ReaderSource{Label: "journal", R: out}, f, opts, follow, p)
	werr := c.Wait()
	if ctx.Err() != nil {
		return nil
	}
	if werr != nil {
		return fmt.Errorf("journalctl: %v: %s", werr, strings.TrimSpace(stderr.String()))
	}
	return gerr
}

// grepLoki queries Loki (the last hour unless --since says otherwise) and
// with --follow tails it live over Loki's WebSocket API.
func grepLoki(ctx context.Context, base, tenant, logql string, f logs.Filter, opts logs.GrepOptions, follow bool, p *logPrinter) error {
	l, err := logs.NewLoki(base, os.Getenv("ONCALL_LOKI_TOKEN"), tenant)
	if err != nil {
		return fmt.Errorf("--loki: %w", err)
	}
	src := &logs.LokiSource{Client: l, Query: logql, Since: opts.Since, Until: opts.Until, Dropped: func(n int) {
		fmt.Fprintf(os.Stderr, "oncall: loki dropped %d entries (reading too slowly)\n", n)
	}}
	return printSource(ctx, src, f, opts, follow, p)
}

// printSource prints the entries of a source that pass the filter and the
// time range.
func printSource(ctx context.Context, src logs.Source, f logs.Filter, opts logs.GrepOptions, follow bool, p *logPrinter) error {
	return src.Stream(ctx, follow, func(es []logs.Entry) error {
		for _, e := range es {
			inRange := (opts.Since.IsZero() || !e.Time.Before(opts.Since)) && (opts.Until.IsZero() || e.Time.Before(opts.Until))
			if inRange && f.Match(&e) {
				p.entry(e)
			}
		}
		return p.w.Flush()
	})
}
