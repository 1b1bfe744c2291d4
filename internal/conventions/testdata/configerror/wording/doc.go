// Package wording words its sentinel its own way.
package wording
