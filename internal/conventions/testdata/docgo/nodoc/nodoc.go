// Package nodoc has its comment here, not in doc.go.
package nodoc
