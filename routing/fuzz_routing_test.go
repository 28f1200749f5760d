package routing

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// The loader never panics, and every error names the file and a line.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Default))
	f.Add([]byte("route:\n  receiver: x\n  routes:\n    - matchers: ['a=~\"(\"']\nreceivers:\n  - name: x\n"))
	f.Add([]byte("route: {receiver: x, group_by: ['...'], group_wait: 5x}\nreceivers: [{name: x, webhook_configs: [{url: 'ftp://x'}]}]\ninhibit_rules: [{equal: [a]}]\n"))
	f.Add([]byte("route: [\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("am.yml", b)
		if err != nil {
			if len(err.Error()) < len("am.yml:1:") || err.Error()[:7] != "am.yml:" {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		c.Root.Match(labels.FromStrings("alertname", "A", "service", "x"))
	})
}
