package yamlnode

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// values parses doc, a mapping, into its values by key.
func values(t *testing.T, doc string) map[string]*yaml.Node {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	m := root.Content[0]
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		out[m.Content[i].Value] = m.Content[i+1]
	}
	return out
}

func TestNodes(t *testing.T) {
	v := values(t, `
map: {a: 1}
list: [1, 2]
text: hello
number: 5
empty:
tilde: ~
null: null
quoted: "null"
anchored: &x {b: 2}
alias: *x
`)
	for _, tc := range []struct {
		key      string
		describe string
		null     bool
	}{
		{"map", "a mapping", false},
		{"list", "a list", false},
		{"text", `"hello"`, false},
		{"number", `"5"`, false},
		{"empty", `""`, true},
		{"tilde", `"~"`, true},
		{"null", `"null"`, true},
		{"quoted", `"null"`, false},
		{"alias", "a mapping", false}, // described as what it stands for
	} {
		n := Resolve(v[tc.key])
		if got := Describe(n); got != tc.describe {
			t.Errorf("Describe(%s) = %s, want %s", tc.key, got, tc.describe)
		}
		if got := IsNull(n); got != tc.null {
			t.Errorf("IsNull(%s) = %v, want %v", tc.key, got, tc.null)
		}
	}
	if Resolve(v["alias"]) != v["anchored"] {
		t.Error("Resolve(alias) is not the anchored node")
	}
	if n := v["text"]; Resolve(n) != n {
		t.Error("Resolve(scalar) is not the scalar")
	}
	if n := (&yaml.Node{Kind: yaml.AliasNode}); Resolve(n) != n {
		t.Error("Resolve of an alias to nothing is not the alias")
	}
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct{ path, key, want string }{
		{"", "alerts", "alerts"},
		{"alerts", "routing", "alerts.routing"},
		{"policies[0].steps[1]", "delay", "policies[0].steps[1].delay"},
	} {
		if got := Join(tc.path, tc.key); got != tc.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tc.path, tc.key, got, tc.want)
		}
	}
}

// Expand turns aliases into copies and drops anchors, and refuses a tree
// that aliases of aliases would blow up.
func TestExpand(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte("a: &x {k: v}\nb: *x\n"), &root); err != nil {
		t.Fatal(err)
	}
	if err := Expand(&root); err != nil {
		t.Fatal(err)
	}
	b := root.Content[0].Content[3]
	if b.Kind != yaml.MappingNode || b.Content[1].Value != "v" || b.Line != 2 {
		t.Fatalf("b: kind %v, line %d", b.Kind, b.Line)
	}
	b.Content[1].Value = "changed"
	if a := root.Content[0].Content[1]; a.Content[1].Value != "v" || a.Anchor != "" {
		t.Errorf("a shares its node with the copy, or kept its anchor: %+v", a)
	}
	out, err := yaml.Marshal(&root)
	if err != nil || strings.Contains(string(out), "&") || strings.Contains(string(out), "*") {
		t.Errorf("written back: %v\n%s", err, out)
	}

	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 'b', 'a'; i <= 'h'; i, prev = i+1, i {
		laughs += fmt.Sprintf("%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", i, i, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
	}
	var bomb yaml.Node
	if err := yaml.Unmarshal([]byte(laughs), &bomb); err != nil {
		t.Fatal(err)
	}
	if err := Expand(&bomb); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("billion laughs: %v", err)
	}
}

// MapValue finds a key's value in a mapping and nothing elsewhere.
func TestMapValue(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte("a: 1\nb: [x]\n"), &root); err != nil {
		t.Fatal(err)
	}
	m := root.Content[0]
	if v := MapValue(m, "a"); v == nil || v.Value != "1" {
		t.Errorf("a: %+v", v)
	}
	if v := MapValue(m, "b"); v == nil || v.Kind != yaml.SequenceNode {
		t.Errorf("b: %+v", v)
	}
	if MapValue(m, "c") != nil || MapValue(MapValue(m, "b"), "x") != nil || MapValue(nil, "a") != nil {
		t.Error("found a value where there is none")
	}
}
