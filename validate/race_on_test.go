//go:build race

package validate_test

// raceEnabled: under the race detector sync.Pool drops a quarter of what it
// is given, so pooled objects are sometimes made anew.
const raceEnabled = true
