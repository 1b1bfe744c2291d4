package crypto_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

func TestRandomToken(t *testing.T) {
	tests := []struct{ n, wantBytes int }{{0, 32}, {1, 1}, {16, 16}, {33, 33}, {65536, 65536}}
	for _, tt := range tests {
		tok, err := bcrypto.RandomToken(tt.n)
		require.NoError(t, err)
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err, "base64url without padding")
		assert.Len(t, raw, tt.wantBytes)
		assert.NotContains(t, tok, "=")
	}
	seen := map[string]bool{}
	for range 1000 {
		tok, err := bcrypto.RandomToken(0)
		require.NoError(t, err)
		require.False(t, seen[tok])
		seen[tok] = true
	}
	for _, n := range []int{-1, 65537} {
		_, err := bcrypto.RandomToken(n)
		assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
	}
}

func TestRandomString_Membership(t *testing.T) {
	for _, alphabet := range []string{bcrypto.AlphabetAlphanumeric, bcrypto.AlphabetDigits, bcrypto.AlphabetCrockford, "ab", "αβγδε", wideAlphabet()} {
		s, err := bcrypto.RandomString(200, alphabet)
		require.NoError(t, err)
		assert.Equal(t, 200, utf8.RuneCountInString(s))
		for _, c := range s {
			require.True(t, strings.ContainsRune(alphabet, c), "%q not in alphabet", c)
		}
	}
	s, err := bcrypto.RandomString(0, "ab")
	require.NoError(t, err)
	assert.Empty(t, s)
}

func wideAlphabet() string {
	var b strings.Builder
	for r := rune(0x4e00); r < 0x4e00+300; r++ {
		b.WriteRune(r)
	}
	return b.String()
}

// An alphabet of 3 drawn from bytes by modulo would favour one letter by
// 1/256; with 2^7+1 letters by modulo on 8 bits, the first 127 would be
// twice as likely. Counts must stay within 6 standard deviations of uniform.
func TestRandomString_IsUnbiased(t *testing.T) {
	for _, size := range []int{3, 129} {
		runes := []rune(wideAlphabet())[:size]
		alphabet := string(runes)
		const n = 60000
		s, err := bcrypto.RandomString(n, alphabet)
		require.NoError(t, err)
		counts := map[rune]int{}
		for _, c := range s {
			counts[c]++
		}
		p := 1 / float64(size)
		mean := n * p
		sd := sqrtf(n * p * (1 - p))
		for _, r := range runes {
			assert.InDelta(t, mean, float64(counts[r]), 6*sd, "size %d letter %q", size, r)
		}
	}
}

func sqrtf(x float64) float64 {
	z := x
	for range 50 {
		z = (z + x/z) / 2
	}
	return z
}

func TestRandomString_RejectsBadArguments(t *testing.T) {
	tests := map[string]struct {
		n        int
		alphabet string
	}{
		"empty alphabet":  {5, ""},
		"one letter":      {5, "a"},
		"duplicate":       {5, "abca"},
		"invalid UTF-8":   {5, "ab\xff"},
		"negative length": {-1, "ab"},
		"huge length":     {1 << 20, "ab"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := bcrypto.RandomString(tt.n, tt.alphabet)
			assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
		})
	}
}

func TestEqual(t *testing.T) {
	assert.True(t, bcrypto.Equal([]byte("abc"), []byte("abc")))
	assert.False(t, bcrypto.Equal([]byte("abc"), []byte("abd")))
	assert.False(t, bcrypto.Equal([]byte("abc"), []byte("ab")))
	assert.True(t, bcrypto.Equal(nil, []byte{}))
	assert.True(t, bcrypto.EqualString("tok", "tok"))
	assert.False(t, bcrypto.EqualString("tok", "toK"))
}
