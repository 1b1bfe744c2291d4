//go:build !linux

package benchmarks

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
