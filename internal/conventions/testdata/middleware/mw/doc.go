// Package mw returns middleware as a bare function.
package mw
