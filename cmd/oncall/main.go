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
	"syscall"

	"github.com/oncallhq/oncall/secret"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintln(os.Stderr, "oncall:", secret.Redact(err.Error()))
		}
		os.Exit(1)
	}
}

// errSilent marks an error whose message was already printed.
var errSilent = errors.New("failed")
