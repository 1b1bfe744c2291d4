package crypto

import (
	"errors"
	"math"
	"testing"
)

// A plaintext too large for GCM cannot be allocated in a test, so the guard
// that Seal and Envelope.Seal call first is tested on lengths alone.
func TestCheckSize_RefusesPlaintextAboveGCMLimit(t *testing.T) {
	tests := []struct {
		n    uint64
		want error
	}{
		{0, nil},
		{1 << 30, nil},
		{MaxPlaintextSize, nil},
		{MaxPlaintextSize + 1, ErrTooLarge},
		{math.MaxUint64, ErrTooLarge},
	}
	for _, tt := range tests {
		if err := checkSize(tt.n); !errors.Is(err, tt.want) {
			t.Errorf("checkSize(%d) = %v, want %v", tt.n, err, tt.want)
		}
	}
}
