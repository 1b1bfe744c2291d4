package httpsec_test

import "runtime"

// runtimeMem measures bytes allocated, which AllocsPerRun does not.
type runtimeMem struct{ bytes uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.bytes = s.TotalAlloc
}
