package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/config"
)

// errNoServer says that no oncall server is configured or answering.
var errNoServer = errors.New("no oncall server")

// findServer returns a client of the oncall server the configuration
// names: server.url, else the address server.listen when an oncall
// answers there (so a CLI next to `oncall serve` finds it with the same
// file). Without either it returns an error wrapping errNoServer.
func findServer(ctx context.Context, cfg config.Config) (*client.Client, error) {
	if u := cfg.Server.URL; u != "" {
		return client.New(u, cfg.Server.Token)
	}
	addr := cfg.Server.Listen
	if addr == "" || strings.HasSuffix(addr, ":0") {
		return nil, fmt.Errorf("%w: set server.url (or --server) to a running oncall serve", errNoServer)
	}
	c, err := client.New("http://"+addr, cfg.Server.Token)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.Healthy(ctx); err != nil {
		return nil, fmt.Errorf("%w: server.url is not set and no oncall answers on server.listen %s (start one with oncall serve, or set server.url)", errNoServer, addr)
	}
	return c, nil
}

// serverClient loads the configuration and finds its server.
func (a *cli) serverClient(ctx context.Context) (config.Config, *client.Client, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return cfg, nil, err
	}
	c, err := findServer(ctx, cfg)
	return cfg, c, err
}
