// Package archtest holds the test of the dependency rule of
// docs/architecture.md: which packages may import which. It has no code.
package archtest
