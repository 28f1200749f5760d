package ruletest

// differs242 are the test files whose verdict Debian's promtool 2.42
// gives otherwise than Prometheus 3 (the version oncall embeds), and why.
// Each is pinned: 2.42 must still disagree, or the entry goes.
var differs242 = map[string]string{
	// Language changes of Prometheus 3.0.
	"window_left_open_test.yml":   "3.0 made range selectors left-open: a sample exactly at t-5m no longer counts, so 2.42 sees 6 scrapes per [5m], not 5, and the step at t-5m in increase()",
	"lookback_left_open_test.yml": "3.0 made the lookback left-open: 2.42 still returns a sample exactly 5m old at 10m, so absent() stays false",
	"utf8_names_test.yml":         "3.0 enabled UTF-8 names: 2.42 cannot parse quoted names such as {\"http.server.request.count\"}",
	"fail_holt_winters_test.yml":  "3.0 removed holt_winters (now double_exponential_smoothing behind a feature flag): 2.42 loads the rule and passes",
	// Fields newer than 2.42, which its strict YAML decoding refuses.
	"group_labels_test.yml":    "rule group labels: are not in 2.42's rule file format (field labels not found in type rulefmt.RuleGroup)",
	"query_offset_test.yml":    "rule group query_offset: came in 2.53; 2.42 refuses the rule file (field query_offset not found in type rulefmt.RuleGroup)",
	"start_timestamp_test.yml": "test group start_timestamp: came to promtool in 3.9; 2.42 refuses the test file (field start_timestamp not found in type main.testGroup)",
}
