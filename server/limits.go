package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// Timeouts bound every connection: slow headers, slow bodies, slow
// readers and idle keep-alives are cut.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
	MaxHeaderBytes                int
}

// DefaultTimeouts leave room for a 32 MiB batch of alerts on a slow link
// and a 30 s query, and no more.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: time.Minute, Write: 2 * time.Minute, Idle: 2 * time.Minute, MaxHeaderBytes: 64 << 10}

// NewHTTPServer returns an http.Server for h with the timeouts set.
func NewHTTPServer(h http.Handler, t Timeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write,
		IdleTimeout: t.Idle, MaxHeaderBytes: t.MaxHeaderBytes}
}

// Query limits, checked before a query reaches the engine: parsing cost
// grows with the square of the length, and evaluation with the nodes.
const (
	maxQueryLength = 8 << 10
	maxQueryNodes  = 5000
	maxQueryDepth  = 100
	// maxSubqueryPoints bounds the steps of a subquery, times those of
	// the subqueries around it: the engine sets every step aside up front
	// (count_over_time(up[100d:1ms]) would take 138 GB before the first
	// sample). A 30-day SLO window at 1m steps is 43,200.
	maxSubqueryPoints = 250_000
	queryTimeout      = 30 * time.Second
	// queriesPerClient bounds the queries one client runs at once.
	queriesPerClient = 4
)

// checkQuery refuses a query too long, too big or too deep, or one that
// does not parse.
func checkQuery(expr string) error {
	if len(expr) > maxQueryLength {
		return fmt.Errorf("query: %d bytes, the limit is %d", len(expr), maxQueryLength)
	}
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	nodes, deepest := 0, 0
	var tooMany error
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		nodes++
		// A chain of a + b + c nests one level a term: count it as terms,
		// not depth.
		depth := 0
		for _, p := range path {
			if _, ok := p.(*parser.BinaryExpr); !ok {
				depth++
			}
		}
		deepest = max(deepest, depth)
		if nodes > maxQueryNodes {
			return errors.New("too many")
		}
		switch n := n.(type) {
		case *parser.SubqueryExpr:
			points := 1.0
			for _, p := range append(path, n) {
				if sq, ok := p.(*parser.SubqueryExpr); ok {
					step := sq.Step
					if step <= 0 {
						step = time.Minute // the embedded engine's default subquery step
					}
					points *= float64(sq.Range) / float64(step)
				}
			}
			if points > maxSubqueryPoints {
				tooMany = fmt.Errorf("query: subquery %s takes %.0f steps, the limit is %d: use a longer step", n.String(), points, maxSubqueryPoints)
				return tooMany
			}
		case *parser.VectorSelector:
			if err := checkAt(n.Timestamp); err != nil {
				tooMany = err
				return err
			}
		}
		return nil
	})
	switch {
	case tooMany != nil:
		return tooMany
	case nodes > maxQueryNodes:
		return fmt.Errorf("query: more than %d parts (terms, operators, selectors)", maxQueryNodes)
	case deepest > maxQueryDepth:
		return fmt.Errorf("query: nested %d deep, the limit is %d", deepest, maxQueryDepth)
	}
	return nil
}

// checkAt refuses an @ modifier outside the times a query may ask for.
func checkAt(ms *int64) error {
	if ms == nil {
		return nil
	}
	if err := checkTime(time.UnixMilli(*ms)); err != nil {
		return fmt.Errorf("query: @ %w", err)
	}
	return nil
}

// Time bounds of a query: what the TSDB can hold, refused rather than
// wrapped around to another century.
var (
	minQueryTime = time.Unix(0, 0)
	maxQueryTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func checkTime(t time.Time) error {
	if t.Before(minQueryTime) || !t.Before(maxQueryTime) {
		return fmt.Errorf("time %s: outside %s…%s", t.Format(time.RFC3339), minQueryTime.UTC().Format("2006"), maxQueryTime.Format("2006"))
	}
	return nil
}

// gate lets each client (by address) run a few expensive requests at once.
type gate struct {
	mu   sync.Mutex
	busy map[string]int
	per  int
}

func newGate(per int) *gate { return &gate{busy: map[string]int{}, per: per} }

// enter takes a slot for the client of r; done gives it back.
func (g *gate) enter(r *http.Request) (done func(), ok bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy[host] >= g.per {
		return nil, false
	}
	g.busy[host]++
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.busy[host]--; g.busy[host] == 0 {
			delete(g.busy, host)
		}
	}, true
}
