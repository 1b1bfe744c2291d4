package store_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

func TestParseUserID(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"7d1c0a52-9b3e-4c1f-8a2d-0e6f5b4c3a21", true},
		{"7D1C0A52-9B3E-4C1F-8A2D-0E6F5B4C3A21", true},
		{"7d1c0a529b3e4c1f8a2d0e6f5b4c3a21", false},
		{"7d1c0a52x9b3e-4c1f-8a2d-0e6f5b4c3a21", false},
		{"7d1c0a52-9b3e-4c1f-8a2d-0e6f5b4c3a2g", false},
		{"{7d1c0a52-9b3e-4c1f-8a2d-0e6f5b4c3a21}", false},
		{"", false},
	} {
		u, err := store.ParseUserID(tt.in)
		if !tt.ok {
			assert.ErrorIs(t, err, store.ErrNotFound, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, strings.ToLower(tt.in), u.String())
	}
}

// FuzzParseUserID holds the parser to validate's UUID rule: it accepts
// exactly the strings that rule accepts, and gives back what it read.
func FuzzParseUserID(f *testing.F) {
	f.Add("7d1c0a52-9b3e-4c1f-8a2d-0e6f5b4c3a21")
	f.Add("7d1c0a52-9b3e-4c1f-8a2d-0e6f5b4c3a2\x00")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := store.ParseUserID(s)
		if (err == nil) != validate.IsUUID(s) {
			t.Fatalf("ParseUserID(%q) = %v, validate.IsUUID = %v", s, err, validate.IsUUID(s))
		}
		if err == nil && u.String() != strings.ToLower(s) {
			t.Fatalf("ParseUserID(%q) = %s", s, u)
		}
	})
}
