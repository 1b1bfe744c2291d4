// Package hk has hooks of the wrong shape.
package hk
