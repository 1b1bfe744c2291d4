//go:build !race

package httpsec_test

const raceAllocSlack = 0
