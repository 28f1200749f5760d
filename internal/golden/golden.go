// Package golden compares what a test produced with a file it keeps under
// testdata/, and rewrites the file instead when the tests run with
// -update: go test ./pkg -run TestX -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Check compares got with the file at path (relative to the test's
// package), or writes got there under -update.
func Check[T string | []byte](t testing.TB, path string, got T) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// File is Check of testdata/name.
func File[T string | []byte](t testing.TB, name string, got T) {
	t.Helper()
	Check(t, filepath.Join("testdata", name), got)
}
