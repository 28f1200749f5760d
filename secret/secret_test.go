package secret

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"query \"up\" on \"http://admin:hunter2@prom:9090\": 500", "query \"up\" on \"http://admin:xxxxx@prom:9090\": 500"},
		{"https://u:p%40ss@host/path?x=1", "https://u:xxxxx@host/path?x=1"},
		{"http://host/hook?token=abc123&x=1", "http://host/hook?token=xxxxx&x=1"},
		{"post http://h/a?api_key=K&Signature=S#frag", "post http://h/a?api_key=xxxxx&Signature=xxxxx#frag"},
		{"http://user@host/ has no password", "http://user@host/ has no password"},
		{"a=b and mail@example.com stay", "a=b and mail@example.com stay"},
	}
	for _, tc := range tests {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	u, _ := url.Parse("http://admin:hunter2@prom:9090/api?password=p")
	if got := RedactURL(u); strings.Contains(got, "hunter2") || strings.Contains(got, "=p") {
		t.Errorf("RedactURL: %s", got)
	}
	if got := (Literal{"s3cret-token", "ab"}).Redact("Bearer s3cret-token, ab"); got != "Bearer xxxxx, ab" {
		t.Errorf("literals: %s", got)
	}
}

func TestHandlerHidesSecretsInEveryAttribute(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewTextHandler(&buf, nil), "tok-123456"))
	u, _ := url.Parse("http://admin:hunter2@prom:9090")
	log.With("base", "http://a:hunter2@x").WithGroup("g").Info("reaching http://admin:hunter2@prom with tok-123456",
		"err", errors.New(`get "http://admin:hunter2@prom:9090/api": refused`), "url", u, "token", "tok-123456",
		slog.Group("nested", "u", "http://x:hunter2@y"), "list", []string{"http://a:hunter2@b"})
	out := buf.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, "tok-123456") {
		t.Errorf("a secret was logged:\n%s", out)
	}
	if !strings.Contains(out, "admin:xxxxx@prom") {
		t.Errorf("redacted URLs should keep their shape:\n%s", out)
	}
}

func FuzzRedactNeverLeaves(f *testing.F) {
	f.Add("http://", "admin", "hunter2", "prom:9090")
	f.Fuzz(func(t *testing.T, scheme, user, pass, host string) {
		// A URL holds no spaces, controls or quotes; its parts no / or @.
		bad := func(s, also string) bool {
			return s == "" || strings.ContainsAny(s, "/@\"'"+also) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
		}
		if len(pass) < 3 || bad(pass, "") || bad(user, ":") || bad(host, "") {
			return
		}
		if scheme = strings.TrimSuffix(scheme, "://"); scheme == "" || strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			scheme = "http"
		}
		s := scheme + "://" + user + ":" + pass + "@" + host + "/x"
		got := Redact(s)
		// A password that is the mask itself reads the same once hidden.
		if pass != Mask && strings.Contains(got, ":"+pass+"@") {
			t.Fatalf("Redact(%q) = %q", s, got)
		}
		// The password is nowhere, unless the rest of the URL holds it too.
		if rest := scheme + "://" + user + ":" + Mask + "@" + host + "/x"; !strings.Contains(rest, pass) && strings.Contains(got, pass) {
			t.Fatalf("Redact(%q) = %q shows the password", s, got)
		}
	})
}
