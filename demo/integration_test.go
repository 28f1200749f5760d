package demo

import (
	"os"
	"testing"
)

// requireIntegration skips a test that needs an external tool, or fails it
// when ONCALL_INTEGRATION=1 says every integration test must run.
func requireIntegration(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("ONCALL_INTEGRATION") == "1" {
		t.Fatalf("ONCALL_INTEGRATION=1 but %s", why)
	}
	t.Skip(why)
}
