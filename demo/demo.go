// Package demo holds what `oncall demo` runs with: the configuration, the
// rule files and the wiring to the synthetic matchmaking platform (package
// demo/platform). Only the monitored platform is synthetic; everything else
// is the real oncall.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oncallhq/oncall/config"
)

//go:embed oncall.yaml alertmanager.yml rules/*.yml
var files embed.FS

// Write copies the demo's configuration and rule files into dir, so that a
// user can read, edit and reuse them, and returns the configuration path.
func Write(dir string) (string, error) {
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, path)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("demo: write files to %q: %w", dir, err)
	}
	return filepath.Join(dir, "oncall.yaml"), nil
}

// Config loads the demo configuration written to dir by Write and points it
// at the platform: its /metrics URL and its log file.
func Config(dir, metricsURL, logFile string) (config.Config, error) {
	cfg, err := config.Load(filepath.Join(dir, "oncall.yaml"))
	if err != nil {
		return cfg, err
	}
	cfg.StateDir = dir
	cfg.Metrics.Scrape.Targets = []config.Target{{Job: "matchmaking", URL: metricsURL}}
	cfg.Logs.Files = []string{logFile}
	return cfg, cfg.Validate()
}
