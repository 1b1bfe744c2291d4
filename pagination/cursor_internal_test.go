package pagination

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// reportCPU runs loop on one locked OS thread and reports its CPU time per
// operation as "cpu-ns/op", which unlike ns/op does not grow when other
// processes compete for the cores.
func reportCPU(b *testing.B, loop func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, ok := threadCPU()
	loop()
	end, _ := threadCPU()
	if ok && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// codecPager returns a pager signing with a SecretSigner, for the codec's
// own tests and benchmarks.
func codecPager(tb testing.TB) *Pager {
	signer, err := NewSecretSigner(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	spec := MustSpec(Column{Name: "id", Unique: true})
	p, err := New(Config{Signer: signer, Sorts: []Sort{{Name: "id", Spec: spec}}})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func benchState(b *testing.B) (*Pager, *[32]byte, position) {
	binding := [32]byte{1, 2, 3}
	pos := position{values: []any{time.Date(2026, 11, 25, 9, 30, 15, 123456000, time.UTC), int64(987654), int64(1 << 40)}}
	return codecPager(b), &binding, pos
}

func colName(int) string { return "" }

// The target: encoding plus decoding a three-key cursor in at most
// one microsecond.
func BenchmarkCursorEncodeDecode(b *testing.B) {
	p, binding, pos := benchState(b)
	b.ReportAllocs()
	reportCPU(b, func() {
		for b.Loop() {
			s, err := p.encodeCursor(binding, pos, 0, colName)
			if err != nil {
				b.Fatal(err)
			}
			if _, cerr := p.decodeCursor(binding, s, 0, 3); cerr != nil {
				b.Fatal(cerr)
			}
		}
	})
}

func BenchmarkCursorEncode(b *testing.B) {
	p, binding, pos := benchState(b)
	b.ReportAllocs()
	reportCPU(b, func() {
		for b.Loop() {
			if _, err := p.encodeCursor(binding, pos, 0, colName); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCursorDecode(b *testing.B) {
	p, binding, pos := benchState(b)
	s, err := p.encodeCursor(binding, pos, 0, colName)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	reportCPU(b, func() {
		for b.Loop() {
			if _, cerr := p.decodeCursor(binding, s, 0, 3); cerr != nil {
				b.Fatal(cerr)
			}
		}
	})
}

func TestCursorCodec_AllocationBudget(t *testing.T) {
	p := codecPager(t)
	binding := [32]byte{1, 2, 3}
	pos := position{values: []any{time.Date(2026, 11, 25, 9, 30, 15, 123456000, time.UTC), int64(987654), int64(1 << 40)}}
	s, _ := p.encodeCursor(&binding, pos, 0, colName)
	if n := testing.AllocsPerRun(100, func() { _, _ = p.encodeCursor(&binding, pos, 0, colName) }); n > 1+raceSlack {
		t.Errorf("encode allocates %v times, want only the string", n)
	}
	// the values slice and one box per value
	if n := testing.AllocsPerRun(100, func() { _, _ = p.decodeCursor(&binding, s, 0, 3) }); n > 4+raceSlack {
		t.Errorf("decode allocates %v times, want at most 4", n)
	}
}
