//go:build !linux

package pagination

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
