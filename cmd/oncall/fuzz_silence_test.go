package main

import (
	"testing"
)

// Matchers typed on the command line parse or are refused with the
// argument named; a parsed silence matcher round-trips through its string.
func FuzzParseSilenceMatchers(f *testing.F) {
	for _, s := range []string{`alertname=Foo`, `service=~"a|b"`, `env!="prod"`, `DiskFull`, `a!~"(x"`, `"quoted"=1`, `a=="b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := parseSilenceMatchers([]string{s})
		if err != nil {
			return
		}
		again, err := parseSilenceMatchers([]string{ms[0].String()})
		if err != nil || again[0].String() != ms[0].String() {
			t.Fatalf("%q parsed as %s, which reparses as %v (%v)", s, ms[0], again, err)
		}
	})
}
