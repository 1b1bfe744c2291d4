// Package ex has an Example that uses internal/testenv.
package ex
