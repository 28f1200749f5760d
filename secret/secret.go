// Package secret finds credentials in text and hides them, so that a
// password in a URL or a token in a query string never reaches a log line,
// an error, an API answer or a page: URLs keep their user and lose their
// password (http://admin:xxxxx@prometheus:9090), and the values of query
// parameters that carry credentials are masked; Handler applies the same to
// every log record.
package secret

import (
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a hidden value.
const Mask = "xxxxx"

var (
	// userinfo matches the password of a URL's user info.
	userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:"']*):([^/@\s"']*)@`)
	// param matches a credential-carrying query parameter or form value.
	param = regexp.MustCompile(`(?i)([?&;](?:access_token|api_key|apikey|auth|key|pass|password|secret|sig|signature|token)=)([^&\s"'#]+)`)
)

// Redact hides the credentials in s.
func Redact(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(s, "=") {
		return s
	}
	s = userinfo.ReplaceAllString(s, "${1}:"+Mask+"@")
	return param.ReplaceAllString(s, "${1}"+Mask)
}

// RedactURL hides the credentials of a URL (the password of its user
// info, credential query parameters).
func RedactURL(u *url.URL) string { return Redact(u.String()) }

// Literal hides the given secrets (tokens read from the configuration)
// wherever they appear in text, on top of what Redact finds.
type Literal []string

// Redact hides the literals and what Redact finds.
func (l Literal) Redact(s string) string {
	for _, v := range l {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return Redact(s)
}

// Handler wraps a slog.Handler so that no record carries a secret: the
// message and every string, error and stringer attribute go through the
// redaction of the given literals and of URLs.
type Handler struct {
	next slog.Handler
	lit  Literal
}

// NewHandler returns a Handler over next hiding lit too.
func NewHandler(next slog.Handler, lit ...string) *Handler {
	return &Handler{next: next, lit: lit}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.lit.Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.lit.Redact(v.String()))
	case slog.KindGroup:
		as := v.Group()
		out := make([]any, len(as))
		for i, g := range as {
			out[i] = h.attr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.lit.Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.lit.Redact(x.String()))
		case []string:
			c := make([]string, len(x))
			for i, s := range x {
				c[i] = h.lit.Redact(s)
			}
			return slog.Any(a.Key, c)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(red), lit: h.lit}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), lit: h.lit}
}
