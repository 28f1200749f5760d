package statuspage

import (
	"encoding/json"
	"encoding/xml"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WriteJSON writes the page as JSON; lists without items are [], not
// null.
func WriteJSON(w io.Writer, p Page) error {
	p.Components, p.Active, p.Past = nonNil(p.Components), nonNil(p.Active), nonNil(p.Past)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"when":  func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") },
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"words": func(s State) string { return s.Words() },
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"ago": func(days []Day) string {
		if len(days) <= 1 {
			return "today"
		}
		return strconv.Itoa(len(days)-1) + " days ago"
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>{{.Title}}</title>
<link rel="alternate" type="application/atom+xml" title="{{.Title}}" href="status/feed.atom">
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
.banner{padding:1rem 1.2rem;border-radius:6px;color:#fff;font-weight:600;font-size:1.1rem}
.operational{background:#1a7f37}.degraded_performance{background:#bf8700}.partial_outage{background:#d1570d}.major_outage{background:#cf222e}
.components{list-style:none;padding:0;border:1px solid #d0d7de;border-radius:6px}
.components li{padding:.8rem 1rem;border-top:1px solid #d0d7de}.components li:first-child{border-top:0}
.name{font-weight:600}.state{float:right}.state.operational{color:#1a7f37;background:none}.state.degraded_performance{color:#9a6700;background:none}
.state.partial_outage{color:#bc4c00;background:none}.state.major_outage{color:#cf222e;background:none}
.days{display:flex;gap:1px;margin-top:.5rem}.days span{flex:1;height:1.6rem;border-radius:1px}
.legend{display:flex;justify-content:space-between;color:#656d76;font-size:.8rem}
.incident{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
.incident h3{margin:.2rem 0 .6rem;font-size:1.05rem}.update{margin:.5rem 0}.update b{text-transform:capitalize}
.meta{color:#656d76;font-size:.85rem}footer{margin:3rem 0 1rem;color:#656d76;font-size:.85rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="banner {{.Status}}" id="overall">{{.Summary}}</p>
{{if .Active}}<h2>Active incidents</h2>
{{range .Active}}<article class="incident" id="incident-{{.ID}}">
<h3>{{.Title}}</h3>
<p class="meta">{{title .Status}} · {{words .Impact}}{{if .Components}} · {{join .Components}}{{end}} · since {{when .Started}}</p>
{{range .Updates}}<p class="update"><b>{{.Status}}</b> — {{.Text}} <span class="meta"><time datetime="{{iso .At}}">{{when .At}}</time></span></p>
{{end}}</article>
{{end}}{{end}}
<h2>Components</h2>
{{if .Components}}<ul class="components">
{{range .Components}}<li><span class="name">{{.Name}}</span> <span class="state {{.State}}">{{words .State}}</span>
<div class="days" aria-label="last {{len .Days}} days">{{range .Days}}<span class="{{.State}}" title="{{.Date}}: {{words .State}}"></span>{{end}}</div>
<div class="legend"><span>{{ago .Days}}</span><span>today</span></div></li>
{{end}}</ul>{{else}}<p class="meta">No components are published.</p>{{end}}
<h2>Past incidents</h2>
{{if .Past}}{{range .Past}}<article class="incident" id="incident-{{.ID}}">
<h3>{{.Title}}</h3>
<p class="meta">Resolved {{when .Resolved}} · {{words .Impact}}{{if .Components}} · {{join .Components}}{{end}}</p>
{{range .Updates}}<p class="update"><b>{{.Status}}</b> — {{.Text}} <span class="meta"><time datetime="{{iso .At}}">{{when .At}}</time></span></p>
{{end}}</article>
{{end}}{{else}}<p class="meta">No incidents in the last {{.HistoryDays}} days.</p>{{end}}
<footer>Updated <time datetime="{{iso .Updated}}">{{when .Updated}}</time> · <a href="status/feed.atom">Atom feed</a> · <a href="status.json">JSON</a></footer>
</body>
</html>
`))

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteHTML writes the page as HTML that needs no JavaScript.
func WriteHTML(w io.Writer, p Page) error { return page.Execute(w, p) }

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Author  atomAuthor  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

// atomAuthor is the feed's author, which RFC 4287 requires of a feed
// whose entries name none.
type atomAuthor struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Link    atomLink    `xml:"link"`
	Content atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// WriteAtom writes the published incidents as an Atom feed, newest
// update first; base is the page's public URL. Without one the links are
// relative to the feed and the ids do not depend on a host name (never
// the Host a request claims).
func WriteAtom(w io.Writer, p Page, base string) error {
	base = strings.TrimSuffix(base, "/")
	id := func(frag string) string {
		if base == "" {
			return "urn:oncall:status" + strings.ReplaceAll(frag, "#incident-", ":incident:")
		}
		return base + "/status" + frag
	}
	f := atomFeed{Title: p.Title, ID: id(""), Updated: p.Updated.Format(time.RFC3339), Author: atomAuthor{Name: p.Title},
		Links: []atomLink{{Rel: "self", Href: base + "/status/feed.atom"}, {Rel: "alternate", Href: base + "/status"}}}
	incs := append(append([]Incident{}, p.Active...), p.Past...)
	slices.SortStableFunc(incs, func(a, b Incident) int { return b.Updated.Compare(a.Updated) })
	for _, inc := range incs {
		var b strings.Builder
		for _, u := range inc.Updates {
			b.WriteString(u.At.UTC().Format("Jan 2, 15:04 UTC") + " — " + u.Status + ": " + u.Text + "\n")
		}
		f.Entries = append(f.Entries, atomEntry{
			Title: inc.Title, ID: id("#incident-" + inc.ID), Updated: inc.Updated.Format(time.RFC3339),
			Link: atomLink{Href: base + "/status#incident-" + inc.ID}, Content: atomContent{Type: "text", Body: b.String()},
		})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return enc.Encode(f)
}
