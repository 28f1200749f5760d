package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"

	"github.com/oncallhq/oncall/routing/silence"
)

// apiMatcher is a silence matcher in Alertmanager's API shape.
type apiMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

type apiSilence struct {
	ID        string       `json:"id,omitempty"`
	Matchers  []apiMatcher `json:"matchers"`
	StartsAt  time.Time    `json:"startsAt"`
	EndsAt    time.Time    `json:"endsAt"`
	UpdatedAt time.Time    `json:"updatedAt,omitzero"`
	CreatedBy string       `json:"createdBy"`
	Comment   string       `json:"comment"`
}

func toSilence(s apiSilence) silence.Silence {
	out := silence.Silence{ID: s.ID, StartsAt: s.StartsAt, EndsAt: s.EndsAt, UpdatedAt: s.UpdatedAt, CreatedBy: s.CreatedBy, Comment: s.Comment}
	for _, m := range s.Matchers {
		t := amlabels.MatchEqual
		switch {
		case m.IsRegex && m.IsEqual:
			t = amlabels.MatchRegexp
		case m.IsRegex:
			t = amlabels.MatchNotRegexp
		case !m.IsEqual:
			t = amlabels.MatchNotEqual
		}
		if am, err := amlabels.NewMatcher(t, m.Name, m.Value); err == nil {
			out.Matchers = append(out.Matchers, am)
		}
	}
	return out
}

// AddSilence creates a silence (or edits the one with s.ID) through the
// server's Alertmanager API and returns its ID.
func (c *Client) AddSilence(ctx context.Context, s silence.Silence) (string, error) {
	body := apiSilence{ID: s.ID, StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment, Matchers: []apiMatcher{}}
	for _, m := range s.Matchers {
		body.Matchers = append(body.Matchers, apiMatcher{Name: m.Name, Value: m.Value,
			IsRegex: m.Type == amlabels.MatchRegexp || m.Type == amlabels.MatchNotRegexp,
			IsEqual: m.Type == amlabels.MatchEqual || m.Type == amlabels.MatchRegexp})
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	return out.SilenceID, c.do(ctx, http.MethodPost, "/api/v2/silences", nil, body, &out)
}

// Silences lists silences (active first, then pending, then expired).
func (c *Client) Silences(ctx context.Context) ([]silence.Silence, error) {
	var raw []apiSilence
	if err := c.do(ctx, http.MethodGet, "/api/v2/silences", nil, nil, &raw); err != nil {
		return nil, err
	}
	out := make([]silence.Silence, len(raw))
	for i, s := range raw {
		out[i] = toSilence(s)
	}
	return out, nil
}

// ExpireSilence ends a silence now.
func (c *Client) ExpireSilence(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil, nil)
}
