// Package bare forgets its comments.
package bare
