package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/secret"
)

// versionKeys are the keys of a version endpoint's JSON that hold the
// version, in order of preference.
var versionKeys = []string{"version", "build", "revision", "commit", "git_sha", "sha"}

// Staging proves "staging with production parity": staging runs the
// version production runs. The versions come from the service's version
// endpoints (Endpoints.Versions["production"] and ["staging"]: JSON with
// a version key, or plain text), else from a build_info-style metric
// (params.metric with params.version_label and params.env_label, the
// environments named params.production and params.staging, the service
// selected by params.service_label, default service).
type Staging struct {
	Query  Querier
	Client *http.Client
}

// Probe implements checklist.Prober.
func (p Staging) Probe(ctx context.Context, t checklist.Target) checklist.Result {
	c := t.Check
	prodEnv, stagingEnv := c.Param("production", "production"), c.Param("staging", "staging")
	var prod, staging []string
	var from string
	if urls := t.Endpoints.Versions; urls[prodEnv] != "" || urls[stagingEnv] != "" {
		if urls[prodEnv] == "" || urls[stagingEnv] == "" {
			return errorResult("set both version endpoints of %s, %s and %s", t.Service.Name, prodEnv, stagingEnv)
		}
		if urls[prodEnv] == urls[stagingEnv] {
			// One endpoint agrees with itself: that proves nothing.
			return checklist.Result{Status: checklist.Fail, Summary: fmt.Sprintf("the %s and %s version endpoints of %s are the same URL, %s: point %s at the staging deployment",
				prodEnv, stagingEnv, t.Service.Name, secret.Redact(urls[prodEnv]), stagingEnv)}
		}
		client := p.Client
		if client == nil {
			client = &http.Client{}
		}
		var err error
		if prod, err = endpointVersion(ctx, client, urls[prodEnv]); err != nil {
			return errorResult("%s version: %v", prodEnv, err)
		}
		if staging, err = endpointVersion(ctx, client, urls[stagingEnv]); err != nil {
			return errorResult("%s version: %v", stagingEnv, err)
		}
		from = "the version endpoints"
	} else {
		if p.Query == nil {
			return errorResult("no metrics source and no version endpoints for %s (checklists.services.%s.versions)", t.Service.Name, t.Service.Name)
		}
		metric, vl, el := c.Param("metric", "build_info"), c.Param("version_label", "version"), c.Param("env_label", "env")
		sl := c.Param("service_label", "service")
		expr := fmt.Sprintf("group by (%s, %s) (%s{%s=%s})", el, vl, metric, sl, strconv.Quote(t.Service.Name))
		res, err := p.Query.Query(ctx, expr, t.Now)
		if err != nil {
			return errorResult("the metrics source did not answer %s: %v", expr, err)
		}
		for _, s := range res.Vector {
			v := s.Labels.Get(vl)
			switch s.Labels.Get(el) {
			case prodEnv:
				prod = append(prod, v)
			case stagingEnv:
				staging = append(staging, v)
			}
		}
		slices.Sort(prod)
		slices.Sort(staging)
		prod, staging = slices.Compact(prod), slices.Compact(staging)
		from = expr
	}
	switch {
	case len(prod) == 0:
		return checklist.Result{Status: checklist.Fail, Summary: fmt.Sprintf("no %s version of %s in %s", prodEnv, t.Service.Name, from)}
	case len(staging) == 0:
		return checklist.Result{Status: checklist.Fail, Summary: fmt.Sprintf("no %s version of %s in %s: is there a staging?", stagingEnv, t.Service.Name, from)}
	case slices.Equal(prod, staging):
		return checklist.Result{Status: checklist.Pass, Summary: fmt.Sprintf("%s and %s both run %s", stagingEnv, prodEnv, strings.Join(prod, ", "))}
	}
	overlap := false
	for _, v := range prod {
		overlap = overlap || slices.Contains(staging, v)
	}
	res := checklist.Result{Status: checklist.Fail, Summary: fmt.Sprintf("%s runs %s, %s runs %s", stagingEnv, strings.Join(staging, ", "), prodEnv, strings.Join(prod, ", "))}
	if overlap {
		res.Status = checklist.Warn
		res.Summary += ": a rollout in progress?"
	}
	return res
}

// endpointVersion reads a version endpoint: JSON with a version key, or
// the first line of plain text.
func endpointVersion(ctx context.Context, c *http.Client, u string) ([]string, error) {
	status, body, err := fetch(ctx, c, http.MethodGet, u, 1<<16)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", secret.Redact(u), unwrapURLError(err))
	}
	if status >= 300 {
		return nil, fmt.Errorf("%s answers %d", secret.Redact(u), status)
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, k := range versionKeys {
			if v, ok := m[k]; ok {
				return []string{fmt.Sprint(v)}, nil
			}
		}
		return nil, fmt.Errorf("%s answers JSON without a version (%s)", secret.Redact(u), strings.Join(versionKeys, ", "))
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if line = strings.TrimSpace(line); line == "" || len(line) > 200 {
		return nil, fmt.Errorf("%s answers no version", secret.Redact(u))
	}
	return []string{line}, nil
}
