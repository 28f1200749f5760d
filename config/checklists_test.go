package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The checklists block: its paths are relative to the file, its problems
// name file, line and field, its password is masked.
func TestChecklistsBlock(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "checklists"), 0o755)
	good := `services: [{name: mm}]
checklists:
  dir: checklists
  timeout: 10s
  services:
    mm:
      url: https://mm.example.com
      http_url: http://mm.example.com/
      versions: {production: "https://mm.example.com/version", staging: "https://user:pw@mm.staging.example.com/version"}
  smtp:
    addr: smtp.example.com:587
    username: oncall
    password: hunter2
    from: oncall@example.com
    to: [engineering@example.com]
`
	cfg, err := Parse(filepath.Join(dir, "oncall.yaml"), []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Checklists
	if c.Dir != filepath.Join(dir, "checklists") || c.ChecklistTimeout() != 10*time.Second || c.Services["mm"].URL != "https://mm.example.com" || c.SMTP.Password != "hunter2" {
		t.Errorf("decoded %+v", c)
	}
	if (Checklists{}).ChecklistTimeout() != 30*time.Second {
		t.Error("default timeout")
	}
	m := cfg.Masked()
	if m.Checklists.SMTP.Password != "<secret>" || !strings.Contains(m.Checklists.Services["mm"].Versions["staging"], "user:xxxxx@") || cfg.Checklists.SMTP.Password != "hunter2" {
		t.Errorf("masked %+v (the original must stay)", m.Checklists)
	}
	b, _ := m.YAML()
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), ":pw@") {
		t.Errorf("config show prints a secret:\n%s", b)
	}
	if got := c.Secrets(); len(got) != 1 || got[0] != "hunter2" {
		t.Errorf("secrets %v", got)
	}

	bad := `services: [{name: mm}]
checklists:
  dir: nowhere
  timeout: -1s
  services:
    mmm: {url: "https://x.example.com"}
    mm:
      url: http://mm.example.com
      http_url: https://mm.example.com
      versions: {staging: "ftp://x"}
  smtp:
    addr: smtp.example.com
    password: " hunter2 "
    from: oncall
    to: [engineering]
`
	_, err = Parse(filepath.Join(dir, "bad.yaml"), []byte(bad))
	f := filepath.Join(dir, "bad.yaml")
	for _, want := range []string{
		f + `:3: checklists.dir: "` + filepath.Join(dir, "nowhere") + `" is not a directory`,
		f + ":4: checklists.timeout: must not be negative",
		f + `:6: checklists.services.mmm: "mmm" is not a service of the catalogue`,
		f + `:8: checklists.services.mm.url: not an https:// URL: "http://mm.example.com"`,
		f + `:9: checklists.services.mm.http_url: not an http:// URL`,
		f + `:10: checklists.services.mm.versions.staging: not an http(s) URL: "ftp://x"`,
		f + `:12: checklists.smtp.addr: "smtp.example.com": want host:port`,
		f + ":13: checklists.smtp.password: leading or trailing whitespace",
		f + ":12: checklists.smtp.username: a password needs a username",
		f + `:14: checklists.smtp.from: "oncall" is not an email address`,
		f + `:15: checklists.smtp.to[0]: "engineering" is not an email address`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := Parse("x.yaml", []byte("checklists:\n  smtp: {to: [a@example.com]}\n")); err == nil || !strings.Contains(err.Error(), "checklists.smtp.addr: must be set") {
		t.Errorf("smtp without addr: %v", err)
	}
}
