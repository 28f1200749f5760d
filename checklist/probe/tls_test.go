package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// testCA mints certificates for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: t0.Add(-365 * day), NotAfter: t0.Add(3650 * day),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// leaf mints a server certificate for host, valid until notAfter.
func (ca *testCA) leaf(t *testing.T, host string, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: t0.Add(-30 * day), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// site is a service made of a real HTTPS server and a real plain-HTTP
// server on loopback, reached under the name mm.example.test.
type site struct {
	https, http *httptest.Server
}

const host = "mm.example.test"

type siteOptions struct {
	cert   tls.Certificate
	hsts   string // "" sends none
	minTLS uint16
	// redirect is where plain HTTP sends you ("" answers 200; "{https}" is
	// the HTTPS server on the same host).
	redirect string
	status   int
	noHTTP   bool
}

func newSite(t *testing.T, o siteOptions) *site {
	t.Helper()
	s := &site{}
	s.https = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.hsts != "" {
			w.Header().Set("Strict-Transport-Security", o.hsts)
		}
		w.Write([]byte("ok"))
	}))
	s.https.TLS = &tls.Config{Certificates: []tls.Certificate{o.cert}, MinVersion: o.minTLS}
	s.https.Config.ErrorLog = log.New(io.Discard, "", 0) // the probe's TLS 1.1 handshakes are refused on purpose
	s.https.StartTLS()
	t.Cleanup(s.https.Close)
	if o.noHTTP {
		return s
	}
	httpsURL := "https://" + host + ":" + port(s.https.URL) + "/"
	s.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case o.redirect == "":
			w.Write([]byte("hello in the clear"))
		default:
			status := o.status
			if status == 0 {
				status = http.StatusMovedPermanently
			}
			http.Redirect(w, r, strings.ReplaceAll(o.redirect, "{https}", httpsURL), status)
		}
	}))
	t.Cleanup(s.http.Close)
	return s
}

func port(u string) string {
	pu, _ := url.Parse(u)
	return pu.Port()
}

// dialLocal sends every name to loopback, keeping the port.
func dialLocal(ctx context.Context, network, addr string) (net.Conn, error) {
	_, p, _ := net.SplitHostPort(addr)
	var d net.Dialer
	return d.DialContext(ctx, network, "127.0.0.1:"+p)
}

func (s *site) endpoints() checklist.Endpoints {
	ep := checklist.Endpoints{URL: "https://" + host + ":" + port(s.https.URL) + "/"}
	if s.http != nil {
		ep.HTTPURL = "http://" + host + ":" + port(s.http.URL) + "/"
	} else {
		ep.HTTPURL = "http://" + host + ":1/"
	}
	return ep
}

func tlsCheck() checklist.Check {
	c, _ := checklist.Builtin()[0].Check("enforces-ssl")
	return c
}

func links(r checklist.Result) map[string]checklist.Link {
	out := map[string]checklist.Link{}
	for _, l := range r.Links {
		out[l.Name] = l
	}
	return out
}

// The TLS probe against real servers with a test CA: each problem fails
// (or warns) its own link, and the check is as bad as its worst link.
func TestTLSProbe(t *testing.T) {
	ca := newCA(t, "Test Root CA")
	other := newCA(t, "Someone Else's CA")
	good := ca.leaf(t, host, t0.Add(90*day))
	const hsts = "max-age=31536000; includeSubDomains"
	for _, tc := range []struct {
		name   string
		site   siteOptions
		status checklist.Status
		// link is the link that decides, with a piece of its detail.
		link, detail string
	}{
		{"enforced", siteOptions{cert: good, hsts: hsts, redirect: "{https}"}, checklist.Pass, "hostname", "the certificate is for mm.example.test"},
		{"expired", siteOptions{cert: ca.leaf(t, host, t0.Add(-day)), hsts: hsts, redirect: "{https}"}, checklist.Fail, "expiry", "expired on 2026-11-22"},
		{"expires in 5 days", siteOptions{cert: ca.leaf(t, host, t0.Add(5*day)), hsts: hsts, redirect: "{https}"}, checklist.Fail, "expiry", "expires in 5 days (2026-11-28): under 7 days"},
		{"expires in 20 days", siteOptions{cert: ca.leaf(t, host, t0.Add(20*day)), hsts: hsts, redirect: "{https}"}, checklist.Warn, "expiry", "expires in 20 days (2026-12-13): renew it, under 30 days"},
		{"wrong hostname", siteOptions{cert: ca.leaf(t, "other.example.test", t0.Add(90*day)), hsts: hsts, redirect: "{https}"}, checklist.Fail, "hostname", "is not for mm.example.test: it names other.example.test"},
		{"untrusted chain", siteOptions{cert: other.leaf(t, host, t0.Add(90*day)), hsts: hsts, redirect: "{https}"}, checklist.Fail, "chain", "does not verify"},
		{"plain HTTP served", siteOptions{cert: good, hsts: hsts}, checklist.Fail, "redirect", "answers 200 instead of redirecting to HTTPS"},
		{"redirect to plain HTTP", siteOptions{cert: good, hsts: hsts, redirect: "http://" + host + "/login"}, checklist.Fail, "redirect", "not to HTTPS"},
		{"redirect to another host", siteOptions{cert: good, hsts: hsts, redirect: "https://www.example.test/"}, checklist.Fail, "redirect", "redirects to another host, www.example.test"},
		{"temporary redirect", siteOptions{cert: good, hsts: hsts, redirect: "{https}", status: http.StatusFound}, checklist.Pass, "redirect", "redirects temporarily (302)"},
		{"no plain HTTP at all", siteOptions{cert: good, hsts: hsts, noHTTP: true}, checklist.Warn, "redirect", "nothing answers plain HTTP"},
		{"no HSTS", siteOptions{cert: good, redirect: "{https}"}, checklist.Fail, "hsts", "no Strict-Transport-Security header"},
		{"HSTS without subdomains", siteOptions{cert: good, hsts: "max-age=31536000", redirect: "{https}"}, checklist.Fail, "hsts", "lacks includeSubDomains"},
		{"HSTS max-age 0", siteOptions{cert: good, hsts: "max-age=0; includeSubDomains", redirect: "{https}"}, checklist.Fail, "hsts", "max-age 0"},
		{"HSTS for a day", siteOptions{cert: good, hsts: `max-age="86400"; includeSubDomains; preload`, redirect: "{https}"}, checklist.Warn, "hsts", "max-age is 1 day: below 365 days"},
		{"HSTS malformed", siteOptions{cert: good, hsts: "includeSubDomains", redirect: "{https}"}, checklist.Fail, "hsts", "no max-age"},
		{"accepts TLS 1.0", siteOptions{cert: good, hsts: hsts, redirect: "{https}", minTLS: tls.VersionTLS10}, checklist.Fail, "tls version", "accepts TLS 1.1: refuse anything before TLS 1.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, tc.site)
			p := TLS{Roots: ca.pool, Dial: dialLocal}
			res := p.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: "matchmaking"}, Endpoints: s.endpoints(), Check: tlsCheck(), Now: t0})
			if res.Status != tc.status {
				t.Errorf("status %s, want %s: %s\n%+v", res.Status, tc.status, res.Summary, res.Links)
			}
			l, ok := links(res)[tc.link]
			if !ok || !strings.Contains(l.Detail, tc.detail) {
				t.Errorf("link %s: %+v, want %q", tc.link, l, tc.detail)
			}
			if len(res.Links) != 6 {
				t.Errorf("want the six links (redirect, tls version, chain, hostname, expiry, hsts): %+v", res.Links)
			}
			if tc.status == checklist.Pass && !strings.Contains(res.Summary, "is HTTPS only") {
				t.Errorf("summary %q", res.Summary)
			}
		})
	}
}

// An unreachable target is an Error result (the rest of a run goes on);
// so is a service with no URL.
func TestTLSProbeCannotRun(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	p := TLS{Dial: dialLocal}
	target := func(u string) checklist.Target {
		return checklist.Target{Service: catalog.Service{Name: "matchmaking"}, Endpoints: checklist.Endpoints{URL: u}, Check: tlsCheck(), Now: t0}
	}
	_, cport, _ := net.SplitHostPort(closed)
	for u, want := range map[string]string{
		"https://" + host + ":" + cport + "/": "no TLS handshake with " + host + ":" + cport,
		"":                                    "no URL for matchmaking: set checklists.services.matchmaking.url",
		"http://" + host + "/":                "is not an https:// URL",
	} {
		res := p.Probe(context.Background(), target(u))
		if res.Status != checklist.Error || !strings.Contains(res.Summary, want) {
			t.Errorf("%q: %s %q, want error %q", u, res.Status, res.Summary, want)
		}
	}
}

func TestParseHSTS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want HSTS
		err  string
	}{
		{"max-age=31536000; includeSubDomains; preload", HSTS{MaxAge: OneYear, IncludeSubDomains: true, Preload: true}, ""},
		{`MAX-AGE="600";includesubdomains`, HSTS{MaxAge: 10 * time.Minute, IncludeSubDomains: true}, ""},
		{"max-age=10; ; ", HSTS{MaxAge: 10 * time.Second}, ""},
		{"includeSubDomains", HSTS{}, "no max-age"},
		{"max-age=abc", HSTS{}, "not a number"},
		{"max-age=-5", HSTS{}, "not a number"},
		{"max-age", HSTS{}, "not a number"},
		{"max-age=1; max-age=2", HSTS{}, "given twice"},
	} {
		got, err := ParseHSTS(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}
