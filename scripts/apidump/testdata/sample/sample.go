// Package sample is apidump's test input.
package sample

import "errors"

// ErrX is documented.
var ErrX = errors.New("sample: x")

const (
	// A is documented.
	A = 1 // trailing comment

	b = 2
)

// Config has a documented field and an unexported one.
type Config struct {
	// Size is documented.
	Size   int
	hidden bool
}

// Open has a body that must not appear.
func Open(c Config) (*Thing, error) {
	_ = c.hidden
	return &Thing{}, nil
}

// Thing is opaque.
type Thing struct{ n int }

// Do is a method.
func (t *Thing) Do() int { return t.n + b }

func (t *Thing) private() {}

// Doer has an unexported method.
type Doer interface {
	Do() int
	private()
}
