//go:build race

package rediscache_test

// The race detector slows the local tier down about tenfold; the large
// scenarios run at full size without it (see scale).
const raceEnabled = true
