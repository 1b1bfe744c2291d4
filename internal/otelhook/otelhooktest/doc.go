// Package otelhooktest reads back what the adapters under observe/ record,
// and holds the checks every adapter must pass, for their tests.
package otelhooktest
