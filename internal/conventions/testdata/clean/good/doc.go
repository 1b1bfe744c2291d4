// Package good follows every convention.
package good
