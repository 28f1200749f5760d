package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"title", "title", 0},
		{"titel", "title", 2},
		{"kitten", "sitting", 3},
		{"group_wiat", "group_wait", 2},
		{"servic", "services", 2},
		{"Title", "title", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"group_by", "group_wait", "group_interval", "repeat_interval", "receiver"}
	for _, tc := range []struct {
		name string
		most int
		want string
	}{
		{"group_wait", 2, "group_wait"},
		{"Group-Wait", 0, "group_wait"}, // case and separators only
		{"groupwait", 0, "group_wait"},  // a separator left out
		{"group wait", 0, "group_wait"}, // a space for the underscore
		{"group_wiat", 2, "group_wait"}, // two edits
		{"group_wiat", 1, ""},           // too far for most
		{"GROUP_WIAT", 2, "group_wait"}, // case is ignored in the distance too
		{"recevier", 2, "receiver"},     // a transposition is two edits
		{"group_bz", 2, "group_by"},     // one edit
		{"silences", 2, ""},             // nothing close
		{"", 2, ""},                     // nothing to go on
	} {
		if got := Closest(tc.name, known, tc.most); got != tc.want {
			t.Errorf("Closest(%q, most %d) = %q, want %q", tc.name, tc.most, got, tc.want)
		}
	}
	if got := Closest("labe", []string{"labels", "label"}, 2); got != "label" {
		t.Errorf("Closest = %q, want the nearest, label, over the first near one", got)
	}
	if got := Closest("lebel", []string{"level", "label"}, 2); got != "level" {
		t.Errorf("Closest of two as near = %q, want the first, level", got)
	}
	if got := Closest("anything", nil, 5); got != "" {
		t.Errorf("Closest with nothing known = %q", got)
	}
}
