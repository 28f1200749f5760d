package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/secret"
)

// commandLangs are the info strings of a fenced block that make it a
// command to run.
var commandLangs = []string{"sh", "bash", "shell", "console", "zsh", "fish", "terminal", "shell-session", "sh-session", "powershell", "pwsh", "ps1", "cmd", "bat"}

var (
	mdLinkRE   = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	autoLinkRE = regexp.MustCompile(`<(https?://[^>\s]+)>`)
	hrefRE     = regexp.MustCompile(`(?i)href\s*=\s*["']([^"']+)["']`)
	fenceRE    = regexp.MustCompile("(?m)^[ \t]{0,3}(```+|~~~+)[ \t]*([^\\n]*)$")
	htmlCodeRE = regexp.MustCompile(`(?i)<code[^>]*class\s*=\s*["'][^"']*\blanguage-([a-z0-9_-]+)`)
)

// Runbook proves "has ops docs with executable instructions": the
// service's runbook (from the catalogue) answers, every link in it
// resolves (up to params.max_links, default 50), and it has at least
// params.min_commands (default 1) fenced code blocks marked as commands
// (sh, bash, console, … or a Runme-style {name=...}).
type Runbook struct {
	// Client fetches the runbook and its links (default: one with no
	// cookies, following redirects).
	Client *http.Client
}

// Probe implements checklist.Prober.
func (p Runbook) Probe(ctx context.Context, t checklist.Target) checklist.Result {
	rb := t.Service.Runbook
	if rb == "" {
		return checklist.Result{Status: checklist.Fail, Summary: fmt.Sprintf("%s has no runbook in the catalogue (services[].runbook)", t.Service.Name)}
	}
	base, err := url.Parse(rb)
	if err != nil || base.Scheme != "http" && base.Scheme != "https" {
		return checklist.Result{Status: checklist.Fail, Summary: fmt.Sprintf("the runbook %q is not an http(s) URL", secret.Redact(rb))}
	}
	maxLinks, err1 := floatParam(t.Check, "max_links", 50)
	minCmds, err2 := floatParam(t.Check, "min_commands", 1)
	if err1 != nil || err2 != nil {
		return errorResult("check %s: params.max_links and params.min_commands want numbers", t.Check.ID)
	}
	client := p.Client
	if client == nil {
		client = &http.Client{}
	}
	status, body, err := fetch(ctx, client, http.MethodGet, rb, 4<<20)
	if err != nil {
		return errorResult("could not fetch the runbook %s: %v", secret.Redact(rb), unwrapURLError(err))
	}
	links := []checklist.Link{{Name: "exists", Status: checklist.Pass, Detail: fmt.Sprintf("%s answers %d", secret.Redact(rb), status)}}
	if status >= 300 {
		links[0].Status, links[0].Detail = checklist.Fail, fmt.Sprintf("%s answers %d", secret.Redact(rb), status)
		return fromLinks(append(links, checklist.Link{Name: "links", Status: checklist.NotReported, Detail: "not checked: no runbook"},
			checklist.Link{Name: "commands", Status: checklist.NotReported, Detail: "not checked: no runbook"}), "")
	}
	text := string(body)
	targets := linkTargets(text, base)
	checked := targets
	if len(checked) > int(maxLinks) {
		checked = checked[:int(maxLinks)]
	}
	dead := deadLinks(ctx, client, checked)
	ll := checklist.Link{Name: "links", Status: checklist.Pass}
	switch {
	case len(dead) > 0:
		ll.Status = checklist.Fail
		ll.Detail = fmt.Sprintf("%d of %d links do not resolve: %s", len(dead), len(checked), strings.Join(dead[:min(len(dead), 5)], ", "))
	case len(targets) == 0:
		ll.Detail = "no links to check"
	default:
		ll.Detail = fmt.Sprintf("all %d links resolve", len(checked))
		if len(targets) > len(checked) {
			ll.Detail += fmt.Sprintf(" (the first %d of %d checked)", len(checked), len(targets))
		}
	}
	links = append(links, ll)
	n := commandBlocks(text)
	cl := checklist.Link{Name: "commands", Status: checklist.Pass, Detail: fmt.Sprintf("%s marked as commands", plural(n, "code block", "code blocks"))}
	if float64(n) < minCmds {
		cl.Status = checklist.Fail
		cl.Detail = fmt.Sprintf("%s marked as commands, want %.0f: write the steps as ```sh blocks to copy", plural(n, "code block", "code blocks"), minCmds)
	}
	links = append(links, cl)
	return fromLinks(links, fmt.Sprintf("the runbook answers, its links resolve and it has %s", plural(n, "command block", "command blocks")))
}

// fetch asks url and returns the status and up to limit bytes of body.
func fetch(ctx context.Context, c *http.Client, method, u string, limit int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp.StatusCode, b, err
}

// linkTargets are the absolute http(s) links of a Markdown or HTML text,
// relative ones resolved against base, each once, in order.
func linkTargets(text string, base *url.URL) []string {
	var out []string
	add := func(raw string) {
		if strings.HasPrefix(raw, "#") || strings.HasPrefix(raw, "mailto:") {
			return
		}
		u, err := base.Parse(raw)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" {
			return
		}
		u.Fragment = ""
		if s := u.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, re := range []*regexp.Regexp{mdLinkRE, autoLinkRE, hrefRE} {
		for _, m := range re.FindAllStringSubmatch(withoutCode(text), -1) {
			add(m[1])
		}
	}
	return out
}

// withoutCode drops fenced blocks: URLs in commands are not links.
func withoutCode(text string) string {
	var b strings.Builder
	in := ""
	for _, line := range strings.SplitAfter(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case in == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")):
			in = t[:3]
		case in != "" && strings.HasPrefix(t, in):
			in = ""
		case in == "":
			b.WriteString(line)
		}
	}
	return b.String()
}

// deadLinks asks every link (HEAD, then GET when HEAD is refused), eight
// at a time, and returns those that do not resolve, with why.
func deadLinks(ctx context.Context, c *http.Client, targets []string) []string {
	dead := make([]string, len(targets))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, u := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			status, _, err := fetch(ctx, c, http.MethodHead, u, 0)
			if err == nil && (status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented) {
				status, _, err = fetch(ctx, c, http.MethodGet, u, 1<<10)
			}
			switch {
			case err != nil:
				dead[i] = fmt.Sprintf("%s (%v)", secret.Redact(u), unwrapURLError(err))
			case status >= 400:
				dead[i] = fmt.Sprintf("%s (%d)", secret.Redact(u), status)
			}
		}()
	}
	wg.Wait()
	return slices.DeleteFunc(dead, func(s string) bool { return s == "" })
}

// commandBlocks counts the fenced code blocks marked as commands, and
// HTML code elements with a command language.
func commandBlocks(text string) int {
	n := 0
	open := ""
	for _, m := range fenceRE.FindAllStringSubmatch(text, -1) {
		fence, info := m[1], strings.TrimSpace(m[2])
		if open != "" {
			if strings.HasPrefix(fence, open[:3]) && len(fence) >= len(open) && info == "" {
				open = ""
			}
			continue
		}
		open = fence
		lang := ""
		if f := strings.Fields(info); len(f) > 0 {
			lang = strings.ToLower(strings.Trim(f[0], "{.}"))
		}
		lang, _, _ = strings.Cut(lang, "{")
		if slices.Contains(commandLangs, lang) || strings.Contains(info, "name=") {
			n++
		}
	}
	for _, m := range htmlCodeRE.FindAllStringSubmatch(text, -1) {
		if slices.Contains(commandLangs, strings.ToLower(m[1])) {
			n++
		}
	}
	return n
}
