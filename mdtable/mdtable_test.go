package mdtable

import (
	"slices"
	"testing"
)

func TestCells(t *testing.T) {
	for _, tc := range []struct {
		row  string
		want []string
	}{
		{"| a | b |", []string{"a", "b"}},
		{"  |a|b|  ", []string{"a", "b"}},
		{"a | b", []string{"a", "b"}},              // outer pipes left out
		{"| a | | c |", []string{"a", "", "c"}},    // an empty cell
		{`| x \| y | z |`, []string{"x | y", "z"}}, // an escaped pipe
		{`| back\slash |`, []string{`back\slash`}}, // other backslashes stay
		{"| ends in a backslash \\|", []string{"ends in a backslash \\"}},
		{"|---|:--:|", []string{"---", ":--:"}},
		{"", []string{""}},
	} {
		if got := Cells(tc.row); !slices.Equal(got, tc.want) {
			t.Errorf("Cells(%q) = %q, want %q", tc.row, got, tc.want)
		}
	}
}
