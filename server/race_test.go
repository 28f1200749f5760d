//go:build race

package server

// raceEnabled makes the memory tests smaller: the race detector makes them
// ten times slower without changing what they prove.
const raceEnabled = true
