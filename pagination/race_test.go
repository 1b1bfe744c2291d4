//go:build race

package pagination

// raceSlack loosens allocation budgets under the race detector, which makes
// sync.Pool drop a quarter of what is put into it, so that pooled HMAC
// states are sometimes rebuilt.
const raceSlack = 6
