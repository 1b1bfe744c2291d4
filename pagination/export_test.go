package pagination

// RaceSlack is exported to the external tests; see raceSlack.
const RaceSlack = raceSlack
