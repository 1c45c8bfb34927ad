//go:build !race

package perfreport

// raceEnabled is whether the tests run with the race detector.
const raceEnabled = false
