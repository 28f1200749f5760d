package theme

import (
	"reflect"
	"testing"
)

// The fast path draws exactly what lipgloss draws, for every style of both
// palettes.
func TestFastStylesRenderAsLipgloss(t *testing.T) {
	for _, dark := range []bool{true, false} {
		th := New(dark)
		v := reflect.ValueOf(th)
		for i := range v.NumField() {
			st, ok := v.Field(i).Interface().(Style)
			if !ok {
				continue
			}
			for _, text := range []string{"firing", "ünï ✓ 日本", "two\nlines"} {
				if got, want := st.Render(text), st.Style.Render(text); got != want {
					t.Errorf("dark=%v %s %q: %q, lipgloss %q", dark, v.Type().Field(i).Name, text, got, want)
				}
			}
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Auto, "auto": Auto, "dark": Dark, "light": Light} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseMode("solarized"); err == nil {
		t.Error("unknown mode accepted")
	}
}
