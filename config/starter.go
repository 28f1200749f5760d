package config

import _ "embed"

// Starter is the commented starter file `oncall init` writes. It is valid
// configuration: a test loads it.
//
//go:embed starter.yaml
var Starter []byte
