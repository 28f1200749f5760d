package ruletest

// differs242 are the test files whose verdict Debian's promtool 2.42
// gives otherwise than Prometheus 3 (the version oncall embeds), and why.
// Each is pinned: 2.42 must still disagree, or the entry goes.
var differs242 = map[string]string{}
