package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Lookup finds a message of the outbox by key (ErrNotFound if none).
type Lookup interface {
	Message(ctx context.Context, key string) (Message, error)
}

// PageOf is the outbox key of the page an update is about ("" for a
// message that is not a page update).
func PageOf(m Message) string {
	if m.Page == nil || m.Page.Of == "" {
		return ""
	}
	return strings.TrimSuffix(m.Key, m.Page.Key) + m.Page.Of
}

// AfterPage wraps d so that a page update goes out only after its page:
// a paging service ignores the acknowledgement of an alert it has not
// opened, and the alert would then stay open. The update is retried while
// the page is pending, unless took says d's own part of the page already
// went out (a page fanned out to several services is pending until all
// took it: one service's outage must not hold back another's updates).
// A page refused for good may still have reached d, so its update goes
// out too: acknowledging an alert a service never opened does no harm.
func AfterPage(box Lookup, d Deliverer, took func(pageKey string) bool) Deliverer {
	return afterPage{box, d, took}
}

type afterPage struct {
	box  Lookup
	d    Deliverer
	took func(string) bool
}

func (a afterPage) Deliver(ctx context.Context, m Message) error {
	key := PageOf(m)
	if key == "" || (a.took != nil && a.took(key)) {
		return a.d.Deliver(ctx, m)
	}
	pg, err := a.box.Message(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		// Gone from the outbox (or never there): nothing to wait for.
	case err != nil:
		return fmt.Errorf("the page %s of this update: %w", key, err)
	case pg.Pending():
		return fmt.Errorf("waiting for the page %s to be delivered first", key)
	}
	return a.d.Deliver(ctx, m)
}
