// Package old declares the old config sentinel.
package old
