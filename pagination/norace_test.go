//go:build !race

package pagination

const raceSlack = 0
