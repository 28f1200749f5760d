// Package announce sends a service's launch email: the message built from
// its checklist run, sent through an SMTP server with net/smtp (STARTTLS
// when the server offers it, PLAIN authentication when a user is set).
// A send proves the checklist's launch-email check.
package announce

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/checklist/report"
)

// Server is an SMTP server to send through.
type Server struct {
	// Addr is host:port.
	Addr     string
	Username string
	Password string
	// TLS configures STARTTLS (nil: verify against the system's roots).
	TLS *tls.Config
	// RequireTLS refuses to send when the server offers no STARTTLS.
	RequireTLS bool
	// Hello is the name given in EHLO (default localhost).
	Hello string
}

// Message is one email.
type Message struct {
	From    string
	To      []string
	Subject string
	Body    string
	// ID is the Message-ID, without angle brackets.
	ID   string
	Date time.Time
}

// Compose writes the launch email for svc from its run: what the service
// is, who owns it, where its runbook and dashboard are, and how it stands
// on the checklist.
func Compose(run checklist.Run, svc catalog.Service, from string, to []string, now time.Time) (Message, error) {
	if _, err := mail.ParseAddress(from); err != nil {
		return Message{}, fmt.Errorf("from %q: %w", from, err)
	}
	if len(to) == 0 {
		return Message{}, errors.New("to: name at least one recipient (engineering@...)")
	}
	for _, t := range to {
		if _, err := mail.ParseAddress(t); err != nil {
			return Message{}, fmt.Errorf("to %q: %w", t, err)
		}
	}
	var b strings.Builder
	name := svc.Name
	if svc.PublicName != "" {
		name = svc.PublicName + " (" + svc.Name + ")"
	}
	fmt.Fprintf(&b, "%s is live in production.\n\n", name)
	if svc.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", svc.Description)
	}
	for _, f := range [][2]string{{"Team", svc.Team}, {"Tier", tierText(svc.Tier)}, {"Escalation policy", svc.Policy}, {"Runbook", svc.Runbook}, {"Dashboard", svc.Dashboard}} {
		if f[1] != "" {
			fmt.Fprintf(&b, "%-18s %s\n", f[0]+":", f[1])
		}
	}
	fmt.Fprintf(&b, "\nProduction readiness (%s): %s\n\n", run.Checklist, report.Verdict(run))
	for _, r := range run.Results {
		fmt.Fprintf(&b, "  %-12s %s\n", r.Status.Label(), r.Title)
	}
	fmt.Fprintf(&b, "\nSent by oncall checklist announce %s --service %s.\n", run.Checklist, svc.Name)
	id := make([]byte, 8)
	rand.Read(id)
	domain := "oncall.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = strings.Trim(from[at+1:], "<> ")
	}
	return Message{From: from, To: to, Subject: fmt.Sprintf("[launch] %s is in production", svc.Name), Body: b.String(),
		ID: fmt.Sprintf("%d.%s@%s", now.Unix(), hex.EncodeToString(id), domain), Date: now}, nil
}

func tierText(t int) string {
	if t == 0 {
		return ""
	}
	return fmt.Sprint(t)
}

// Bytes is the message in RFC 5322 form, lines ending in CRLF (the
// SMTP client dot-stuffs it).
func (m Message) Bytes() []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", m.From)
	header("To", strings.Join(m.To, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", m.Date.Format(time.RFC1123Z))
	header("Message-ID", "<"+m.ID+">")
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	for _, line := range strings.Split(strings.TrimRight(m.Body, "\n"), "\n") {
		b.WriteString(strings.TrimRight(line, "\r") + "\r\n")
	}
	return b.Bytes()
}

// Send delivers m through the server within ctx's deadline.
func (s Server) Send(ctx context.Context, m Message) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: %w", s.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("smtp %s: EHLO: %w", s.Addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp %s: STARTTLS: %w", s.Addr, err)
		}
	} else if s.RequireTLS {
		return fmt.Errorf("smtp %s offers no STARTTLS, and TLS is required", s.Addr)
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp %s: authentication as %s: %w", s.Addr, s.Username, err)
		}
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", s.Addr, err)
	}
	for _, t := range m.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return fmt.Errorf("to %q: %w", t, err)
		}
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("smtp %s: RCPT TO %s: %w", s.Addr, a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if _, err := w.Write(m.Bytes()); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: the server refused the message: %w", s.Addr, err)
	}
	return c.Quit()
}
