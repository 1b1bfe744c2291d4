// Package wrapped builds its sentinel in a way the check cannot read.
package wrapped
