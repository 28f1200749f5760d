package announce

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// smtpServer is a small SMTP server speaking enough of RFC 5321 for a
// submission: EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
type smtpServer struct {
	addr      string
	tls       *tls.Config // non-nil: offer STARTTLS
	user, pwd string      // non-empty: offer AUTH PLAIN and require it
	refuse    string      // a recipient refused with 550

	mu   sync.Mutex
	mail []received
}

type received struct {
	from   string
	to     []string
	data   string
	authed bool
	tls    bool
}

func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s.addr = l.Addr().String()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	var cur received
	say("220 test.local ESMTP ready")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch {
		case verb == "EHLO" || verb == "HELO":
			exts := []string{"250-test.local", "250-8BITMIME"}
			if s.tls != nil && !cur.tls {
				exts = append(exts, "250-STARTTLS")
			}
			if s.user != "" {
				exts = append(exts, "250-AUTH PLAIN")
			}
			exts[len(exts)-1] = "250 " + exts[len(exts)-1][4:]
			for _, e := range exts {
				w.WriteString(e + "\r\n")
			}
			w.Flush()
		case verb == "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
			cur = received{tls: true}
		case verb == "AUTH":
			f := strings.Fields(line)
			b, _ := base64.StdEncoding.DecodeString(f[len(f)-1])
			parts := strings.Split(string(b), "\x00")
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pwd {
				cur.authed = true
				say("235 2.7.0 authenticated")
			} else {
				say("535 5.7.8 bad credentials")
			}
		case verb == "MAIL":
			if s.user != "" && !cur.authed {
				say("530 5.7.0 authentication required")
				continue
			}
			cur.from = strings.Trim(strings.TrimPrefix(line[5:], "FROM:"), "<> ")
			cur.from, _, _ = strings.Cut(cur.from, ">")
			say("250 ok")
		case verb == "RCPT":
			to := strings.Trim(strings.TrimPrefix(line[5:], "TO:"), "<> ")
			if to == s.refuse {
				say("550 5.1.1 no such user")
				continue
			}
			cur.to = append(cur.to, to)
			say("250 ok")
		case verb == "DATA":
			say("354 end with .")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			cur.data = b.String()
			s.mu.Lock()
			s.mail = append(s.mail, cur)
			s.mu.Unlock()
			cur = received{tls: cur.tls, authed: cur.authed}
			say("250 queued")
		case verb == "QUIT":
			say("221 bye")
			return
		case verb == "RSET" || verb == "NOOP":
			say("250 ok")
		default:
			say("502 not implemented")
		}
	}
}

func (s *smtpServer) got() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mail...)
}

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "smtp test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func launchRun() (checklist.Run, catalog.Service) {
	svc := catalog.Service{Name: "matchmaking", Team: "dating", Tier: 2, Runbook: "https://runbooks.example.com/mm", PublicName: "Matchmaking",
		Description: "Finds the people you might like."}
	cl := checklist.Builtin()[0]
	run := checklist.Evaluate(cl, svc, "silver", "tier 2", map[string]checklist.Result{"enforces-ssl": {Status: checklist.Pass, Summary: "ok"}}, nil, t0)
	return run, svc
}

func TestSendThroughARealSMTPServer(t *testing.T) {
	cert, pool := selfSigned(t)
	run, svc := launchRun()
	for _, tc := range []struct {
		name    string
		srv     *smtpServer
		client  Server
		wantTLS bool
	}{
		{"plain with auth", &smtpServer{user: "oncall", pwd: "s3cret"}, Server{Username: "oncall", Password: "s3cret"}, false},
		{"STARTTLS then auth", &smtpServer{user: "oncall", pwd: "s3cret", tls: &tls.Config{Certificates: []tls.Certificate{cert}}},
			Server{Username: "oncall", Password: "s3cret", TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, RequireTLS: true}, true},
		{"no auth", &smtpServer{}, Server{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSMTP(t, tc.srv)
			tc.client.Addr = s.addr
			msg, err := Compose(run, svc, "oncall <oncall@example.com>", []string{"engineering@example.com", "sre@example.com"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := tc.client.Send(ctx, msg); err != nil {
				t.Fatal(err)
			}
			got := s.got()
			if len(got) != 1 {
				t.Fatalf("delivered %d messages", len(got))
			}
			m := got[0]
			if m.from != "oncall@example.com" || strings.Join(m.to, ",") != "engineering@example.com,sre@example.com" || m.tls != tc.wantTLS || m.authed != (tc.srv.user != "") {
				t.Errorf("envelope %+v", m)
			}
			parsed, err := mail.ReadMessage(strings.NewReader(m.data))
			if err != nil {
				t.Fatalf("not an RFC 5322 message: %v\n%s", err, m.data)
			}
			if parsed.Header.Get("Subject") != "[launch] matchmaking is in production" || parsed.Header.Get("Message-ID") != "<"+msg.ID+">" ||
				!strings.HasSuffix(msg.ID, "@example.com") {
				t.Errorf("headers %v", parsed.Header)
			}
			if d, err := parsed.Header.Date(); err != nil || !d.Equal(t0) {
				t.Errorf("date %v %v", d, err)
			}
			body := m.data[strings.Index(m.data, "\r\n\r\n")+4:]
			for _, want := range []string{"Matchmaking (matchmaking) is live in production.", "Finds the people you might like.", "Team:              dating",
				"Runbook:           https://runbooks.example.com/mm", "Production readiness (prod): silver required (tier 2): FAIL", "pass         Enforces SSL access"} {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
		})
	}
}

// A line that begins with a dot arrives as written (the client stuffs
// it, the server unstuffs it).
func TestDotStuffing(t *testing.T) {
	s := startSMTP(t, &smtpServer{})
	msg := Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: "dots", Body: ".hidden\n..two\n.\nend\n", ID: "1@example.com", Date: t0}
	if err := (Server{Addr: s.addr}).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := s.got()
	if len(got) != 1 || !strings.HasSuffix(got[0].data, "\r\n\r\n.hidden\r\n..two\r\n.\r\nend\r\n") {
		t.Errorf("data %+v", got)
	}
}

func TestSendFails(t *testing.T) {
	run, svc := launchRun()
	msg, _ := Compose(run, svc, "oncall@example.com", []string{"engineering@example.com"}, t0)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		name   string
		srv    *smtpServer
		client Server
		want   string
	}{
		{"wrong password", &smtpServer{user: "oncall", pwd: "right"}, Server{Username: "oncall", Password: "wrong-one"}, "authentication as oncall"},
		{"TLS required", &smtpServer{}, Server{RequireTLS: true}, "offers no STARTTLS, and TLS is required"},
		{"recipient refused", &smtpServer{refuse: "engineering@example.com"}, Server{}, "RCPT TO engineering@example.com: 550"},
		{"unreachable", nil, Server{Addr: closed}, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.srv != nil {
				tc.client.Addr = startSMTP(t, tc.srv).addr
			}
			err := tc.client.Send(context.Background(), msg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "wrong-one") {
				t.Errorf("the password is in the error: %v", err)
			}
		})
	}
}

func TestComposeRefuses(t *testing.T) {
	run, svc := launchRun()
	for _, tc := range []struct {
		from string
		to   []string
		want string
	}{
		{"not an address", []string{"a@example.com"}, "from"},
		{"a@example.com", nil, "at least one recipient"},
		{"a@example.com", []string{"engineering"}, `to "engineering"`},
	} {
		if _, err := Compose(run, svc, tc.from, tc.to, t0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}
