package mw

import nethttp "net/http"

// Wrap is middleware in the old shape.
func Wrap() func(nethttp.Handler) nethttp.Handler { return nil }

// Gate is a value.
type Gate struct{}

// Middleware builds the old shape from a value, with an error.
func (g *Gate) Middleware() (func(nethttp.Handler) nethttp.Handler, error) { return nil, nil }

// Handler is the v1 shape.
func (g *Gate) Handler(next nethttp.Handler) nethttp.Handler { return next }

func private() func(nethttp.Handler) nethttp.Handler { return nil }
