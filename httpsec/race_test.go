//go:build race

package httpsec_test

// raceAllocSlack absorbs the extra allocations the race detector's
// instrumentation makes, so allocation budgets hold under -race too.
const raceAllocSlack = 1
