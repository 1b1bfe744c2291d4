// Package token repeats its name.
package token
