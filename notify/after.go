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
// opened, and the alert would then stay open. Until the page is
// delivered the update is retried; the update of a page that never will
// be (refused, superseded) is moot and counts as delivered.
func AfterPage(box Lookup, d Deliverer) Deliverer { return afterPage{box, d} }

type afterPage struct {
	box Lookup
	d   Deliverer
}

func (a afterPage) Deliver(ctx context.Context, m Message) error {
	key := PageOf(m)
	if key == "" {
		return a.d.Deliver(ctx, m)
	}
	pg, err := a.box.Message(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		// Gone from the outbox (or never there): nothing to wait for.
	case err != nil:
		return fmt.Errorf("the page %s of this update: %w", key, err)
	case pg.Failed || pg.Superseded:
		return nil
	case pg.Pending():
		return fmt.Errorf("waiting for the page %s to be delivered first", key)
	}
	return a.d.Deliver(ctx, m)
}
