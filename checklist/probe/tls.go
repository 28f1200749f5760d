package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/secret"
)

// OneYear is the HSTS max-age browsers' preload lists ask for.
const OneYear = 365 * 24 * time.Hour

// TLS proves "enforces SSL access": plain HTTP redirects to HTTPS on the
// same host; TLS 1.2 or later only; a chain that verifies, for the
// hostname; days until the certificate expires (params warn_days, default
// 30, and fail_days, default 7); and a Strict-Transport-Security header
// with max-age (below params hsts_min_age, default a year, warns) and
// includeSubDomains. The service's URL comes from its endpoints.
type TLS struct {
	// Roots verify the chain (nil: the system's roots).
	Roots *x509.CertPool
	// Dial, when set, opens connections (tests point a hostname at a
	// local server with it).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Probe implements checklist.Prober.
func (p TLS) Probe(ctx context.Context, t checklist.Target) checklist.Result {
	if t.Endpoints.URL == "" {
		return errorResult("no URL for %s: set checklists.services.%s.url", t.Service.Name, t.Service.Name)
	}
	u, err := url.Parse(t.Endpoints.URL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return errorResult("the URL of %s, %q, is not an https:// URL", t.Service.Name, secret.Redact(t.Endpoints.URL))
	}
	warnDays, err1 := floatParam(t.Check, "warn_days", 30)
	failDays, err2 := floatParam(t.Check, "fail_days", 7)
	minAge, err3 := durationParam(t.Check, "hsts_min_age", OneYear)
	if err := errors.Join(err1, err2, err3); err != nil {
		return errorResult("%v", err)
	}
	host := u.Hostname()
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(host, "443")
	}
	// The handshake first: when nothing answers, the target is
	// unreachable and nothing else is worth asking.
	state, err := p.handshake(ctx, addr, host, 0, 0)
	if err != nil {
		return errorResult("no TLS handshake with %s: %v", addr, err)
	}
	links := []checklist.Link{p.redirect(ctx, t, u)}
	links = append(links, p.versions(ctx, addr, host, state))
	links = append(links, chainLinks(state, host, t.Now, p.Roots, warnDays, failDays)...)
	links = append(links, p.hsts(ctx, u, minAge))
	ok := fmt.Sprintf("%s is HTTPS only: %s, certificate valid until %s", host, tlsName(state.Version), state.PeerCertificates[0].NotAfter.UTC().Format("2006-01-02"))
	return fromLinks(links, ok)
}

func (p TLS) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.Dial != nil {
		return p.Dial
	}
	var d net.Dialer
	return d.DialContext
}

// handshake connects to addr and completes a TLS handshake without
// verifying (the chain is judged separately), between the versions given
// (0: Go's defaults).
func (p TLS) handshake(ctx context.Context, addr, host string, minV, maxV uint16) (tls.ConnectionState, error) {
	conn, err := p.dialer()(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: minV, MaxVersion: maxV})
	if err := tc.HandshakeContext(ctx); err != nil {
		return tls.ConnectionState{}, err
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return st, errors.New("the server sent no certificate")
	}
	return st, nil
}

// client is an HTTP client that does not follow redirects and does not
// verify (the chain has its own link).
func (p TLS) client() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{DialContext: p.dialer(), TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// redirect asks the plain-HTTP URL and wants a redirect to https:// on
// the same host.
func (p TLS) redirect(ctx context.Context, t checklist.Target, u *url.URL) checklist.Link {
	l := checklist.Link{Name: "redirect"}
	plain := t.Endpoints.HTTPURL
	if plain == "" {
		pu := *u
		pu.Scheme, pu.Host = "http", u.Hostname()
		plain = pu.String()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, plain, nil)
	if err != nil {
		l.Status, l.Detail = checklist.Error, fmt.Sprintf("%s: %v", secret.Redact(plain), err)
		return l
	}
	resp, err := p.client().Do(req)
	if err != nil {
		l.Status, l.Detail = checklist.Warn, fmt.Sprintf("nothing answers plain HTTP at %s (%v): nobody is served in the clear, but a browser typing the name gets an error instead of a redirect", secret.Redact(plain), unwrapURLError(err))
		return l
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	switch {
	case resp.StatusCode < 300 || resp.StatusCode >= 400:
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("plain HTTP at %s answers %d instead of redirecting to HTTPS", secret.Redact(plain), resp.StatusCode)
	case loc == nil:
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("plain HTTP at %s answers %d without a Location", secret.Redact(plain), resp.StatusCode)
	case loc.Scheme != "https":
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("plain HTTP at %s redirects to %s, not to HTTPS", secret.Redact(plain), secret.Redact(loc.String()))
	case !strings.EqualFold(loc.Hostname(), u.Hostname()):
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("plain HTTP at %s redirects to another host, %s: the first hop must stay on %s", secret.Redact(plain), loc.Hostname(), u.Hostname())
	default:
		l.Status = checklist.Pass
		kind := "permanently"
		if resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusPermanentRedirect {
			kind = "temporarily"
		}
		l.Detail = fmt.Sprintf("plain HTTP redirects %s (%d) to %s", kind, resp.StatusCode, secret.Redact(loc.String()))
	}
	return l
}

// versions wants TLS 1.2 or later negotiated, and a TLS 1.1 handshake
// refused.
func (p TLS) versions(ctx context.Context, addr, host string, st tls.ConnectionState) checklist.Link {
	l := checklist.Link{Name: "tls version"}
	if st.Version < tls.VersionTLS12 {
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("negotiates %s: want TLS 1.2 or later", tlsName(st.Version))
		return l
	}
	if old, err := p.handshake(ctx, addr, host, tls.VersionTLS10, tls.VersionTLS11); err == nil {
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("accepts %s: refuse anything before TLS 1.2", tlsName(old.Version))
		return l
	}
	l.Status, l.Detail = checklist.Pass, fmt.Sprintf("negotiates %s and refuses TLS 1.1 and older", tlsName(st.Version))
	return l
}

// chainLinks judge the certificate: the chain to the roots, the
// hostname, and the days left.
func chainLinks(st tls.ConnectionState, host string, now time.Time, roots *x509.CertPool, warnDays, failDays float64) []checklist.Link {
	leaf := st.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	chain := checklist.Link{Name: "chain", Status: checklist.Pass}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now}
	_, err := leaf.Verify(opts)
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		// Expiry is its own link: does the chain hold apart from it?
		opts.CurrentTime = leaf.NotAfter.Add(-time.Second)
		_, err = leaf.Verify(opts)
	}
	if err != nil {
		chain.Status, chain.Detail = checklist.Fail, fmt.Sprintf("does not verify: %v", err)
	} else {
		chain.Detail = fmt.Sprintf("verifies: %s issued by %s", subject(leaf), leaf.Issuer.CommonName)
	}
	name := checklist.Link{Name: "hostname", Status: checklist.Pass, Detail: fmt.Sprintf("the certificate is for %s", host)}
	if err := leaf.VerifyHostname(host); err != nil {
		name.Status, name.Detail = checklist.Fail, fmt.Sprintf("the certificate is not for %s: it names %s", host, strings.Join(certNames(leaf), ", "))
	}
	days := leaf.NotAfter.Sub(now).Hours() / 24
	exp := checklist.Link{Name: "expiry", Status: checklist.Pass}
	until := leaf.NotAfter.UTC().Format("2006-01-02")
	switch {
	case days < 0:
		exp.Status, exp.Detail = checklist.Fail, fmt.Sprintf("expired on %s", until)
	case days < failDays:
		exp.Status, exp.Detail = checklist.Fail, fmt.Sprintf("expires in %.0f days (%s): under %.0f days", days, until, failDays)
	case days < warnDays:
		exp.Status, exp.Detail = checklist.Warn, fmt.Sprintf("expires in %.0f days (%s): renew it, under %.0f days", days, until, warnDays)
	default:
		exp.Detail = fmt.Sprintf("valid for %.0f more days (until %s)", days, until)
	}
	return []checklist.Link{chain, name, exp}
}

// hsts asks the HTTPS URL for its Strict-Transport-Security header.
func (p TLS) hsts(ctx context.Context, u *url.URL, minAge time.Duration) checklist.Link {
	l := checklist.Link{Name: "hsts"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		l.Status, l.Detail = checklist.Error, err.Error()
		return l
	}
	resp, err := p.client().Do(req)
	if err != nil {
		l.Status, l.Detail = checklist.Error, fmt.Sprintf("GET %s: %v", secret.Redact(u.String()), unwrapURLError(err))
		return l
	}
	resp.Body.Close()
	h := resp.Header.Get("Strict-Transport-Security")
	if h == "" {
		l.Status, l.Detail = checklist.Fail, "no Strict-Transport-Security header: browsers will ask in plain HTTP again"
		return l
	}
	hs, err := ParseHSTS(h)
	switch {
	case err != nil:
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("Strict-Transport-Security %q: %v", h, err)
	case hs.MaxAge <= 0:
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("Strict-Transport-Security %q: max-age 0 tells browsers to forget HTTPS", h)
	case !hs.IncludeSubDomains:
		l.Status, l.Detail = checklist.Fail, fmt.Sprintf("Strict-Transport-Security %q lacks includeSubDomains", h)
	case hs.MaxAge < minAge:
		l.Status, l.Detail = checklist.Warn, fmt.Sprintf("Strict-Transport-Security max-age is %s: below %s", days(hs.MaxAge), days(minAge))
	default:
		l.Status, l.Detail = checklist.Pass, fmt.Sprintf("Strict-Transport-Security max-age %s with includeSubDomains", days(hs.MaxAge))
	}
	return l
}

// HSTS is a parsed Strict-Transport-Security header (RFC 6797).
type HSTS struct {
	MaxAge            time.Duration
	IncludeSubDomains bool
	Preload           bool
}

// ParseHSTS parses a Strict-Transport-Security header value: directives
// separated by ';', names case-insensitive, max-age required exactly once,
// its value a number of seconds (quoted or not).
func ParseHSTS(h string) (HSTS, error) {
	var out HSTS
	seen := map[string]bool{}
	for _, d := range strings.Split(h, ";") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		name, val, hasVal := strings.Cut(d, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if seen[name] {
			return HSTS{}, fmt.Errorf("directive %s given twice", name)
		}
		seen[name] = true
		switch name {
		case "max-age":
			v := strings.Trim(strings.TrimSpace(val), `"`)
			n, err := strconv.ParseInt(v, 10, 64)
			if !hasVal || err != nil || n < 0 {
				return HSTS{}, fmt.Errorf("max-age %q is not a number of seconds", val)
			}
			out.MaxAge = time.Duration(min(n, int64(1<<62/time.Second))) * time.Second
		case "includesubdomains":
			out.IncludeSubDomains = true
		case "preload":
			out.Preload = true
		}
	}
	if !seen["max-age"] {
		return HSTS{}, errors.New("no max-age")
	}
	return out, nil
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return plural(int(d/(24*time.Hour)), "day", "days")
	}
	return d.String()
}

func tlsName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLS 1.3"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS10:
		return "TLS 1.0"
	}
	return fmt.Sprintf("TLS version %#x", v)
}

func subject(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return "the certificate"
}

func certNames(c *x509.Certificate) []string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName+" (common name only)")
	}
	if len(names) == 0 {
		names = []string{"nothing"}
	}
	return names
}

// unwrapURLError drops net/http's "Get URL:" prefix (the URL is said
// already).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
