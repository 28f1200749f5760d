package catalog

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	known := func(p string) bool { return p == "platform" }
	good := Service{Name: "matchmaking", Tier: 1, Policy: "platform", Runbook: "https://runbooks.example.com/mm", PublicName: "Matchmaking"}
	if err := good.Validate(known); err != nil {
		t.Errorf("good service: %v", err)
	}
	bad := Service{Name: "match making", Tier: 9, Policy: "nope", Runbook: "runbooks/mm", Dashboard: "::"}
	err := bad.Validate(known)
	for _, want := range []string{`name: "match making"`, "tier: 9", `policy: unknown policy "nope"`, `runbook: "runbooks/mm" is not an absolute URL`, "dashboard:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestPublicAndGet(t *testing.T) {
	c := Catalog{Services: []Service{{Name: "a", PublicName: "A"}, {Name: "b"}, {Name: "c", PublicName: "C"}}}
	if p := c.Public(); len(p) != 2 || p[0].Name != "a" || p[1].Name != "c" {
		t.Errorf("public: %+v", p)
	}
	if s, ok := c.Get("b"); !ok || s.Name != "b" {
		t.Error("get b")
	}
	if _, ok := c.Get("z"); ok {
		t.Error("get z")
	}
}
