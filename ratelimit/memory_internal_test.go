package ratelimit

import (
	"testing"
	"unsafe"
)

func TestSlot_FitsOneCacheLine(t *testing.T) {
	if size := unsafe.Sizeof(slot{}); size > 64 {
		t.Fatalf("slot is %d bytes, want at most 64", size)
	}
}
