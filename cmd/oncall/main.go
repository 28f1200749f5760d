// Command oncall is the on-call engineer's console: a TUI over metrics,
// logs, alerts, incidents and who is on call; the alert and escalation server
// behind it; and the CLI around both. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/oncallhq/oncall/secret"
)

func main() {
	// oncall exports no traces: with the no-op provider, the spans the
	// embedded PromQL engine opens for every query and node cost next to
	// nothing (the global default allocates each one, waiting for a
	// provider that never comes).
	otel.SetTracerProvider(noop.NewTracerProvider())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errSilent) {
			for _, line := range strings.Split(secret.Redact(err.Error()), "\n") {
				fmt.Fprintln(os.Stderr, "oncall:", line)
			}
		}
		code := 1
		var ee exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		stop()
		os.Exit(code)
	}
}

// errSilent marks an error whose message was already printed.
var errSilent = errors.New("failed")

// exitError is an error that exits with its own status (for commands a
// CI job reads: 1 found problems, 2 could not check).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
