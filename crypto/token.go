package crypto

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// DefaultTokenBytes is the entropy of RandomToken(0): 256 bits.
const DefaultTokenBytes = 32

// maxTokenBytes bounds a single token, so a bad argument cannot allocate
// without limit.
const maxTokenBytes = 1 << 16

// Alphabets for RandomString.
const (
	AlphabetAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	AlphabetLowerAlnum   = "abcdefghijklmnopqrstuvwxyz0123456789"
	AlphabetDigits       = "0123456789"
	// AlphabetCrockford is Crockford's base 32, without the easily confused
	// I, L, O and U: good for codes people type.
	AlphabetCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// RandomToken returns nBytes bytes from crypto/rand encoded as base64url
// without padding, for session ids, CSRF tokens, reset links and the like.
// nBytes zero means DefaultTokenBytes; a negative value or one above 65536
// fails with ErrInvalidConfig. Values below 16 are allowed but too short
// to resist guessing.
func RandomToken(nBytes int) (string, error) {
	if nBytes == 0 {
		nBytes = DefaultTokenBytes
	}
	if nBytes < 0 || nBytes > maxTokenBytes {
		return "", fmt.Errorf("%w: token of %d bytes", ErrInvalidConfig, nBytes)
	}
	b := make([]byte, nBytes)
	_, _ = rand.Read(b) // never fails: the runtime aborts instead
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// RandomString returns n characters drawn uniformly and independently from
// alphabet using crypto/rand. It draws by rejection, never by modulo, so
// every character is equally likely whatever the alphabet's size. alphabet
// must hold 2 to 65536 distinct characters (runes, so it may be UTF-8); n
// must lie in [0, 65536]. Bad arguments fail with ErrInvalidConfig.
func RandomString(n int, alphabet string) (string, error) {
	if n < 0 || n > maxTokenBytes {
		return "", fmt.Errorf("%w: string of %d characters", ErrInvalidConfig, n)
	}
	chars, err := alphabetRunes(alphabet)
	if err != nil {
		return "", err
	}
	// Draw indexes of just enough bits and reject those past the alphabet:
	// at worst half are rejected, and none of the accepted ones is biased.
	width := bits.Len(uint(len(chars) - 1))
	mask := uint32(1)<<width - 1
	wide := width > 8
	out := make([]rune, 0, n)
	var buf [256]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for i := 0; i < len(buf) && len(out) < n; i++ {
			v := uint32(buf[i])
			if wide {
				if i+1 >= len(buf) {
					break
				}
				v = uint32(buf[i])<<8 | uint32(buf[i+1])
				i++
			}
			if v &= mask; v < uint32(len(chars)) {
				out = append(out, chars[v])
			}
		}
	}
	return string(out), nil
}

func alphabetRunes(alphabet string) ([]rune, error) {
	if !utf8.ValidString(alphabet) {
		return nil, fmt.Errorf("%w: alphabet is not valid UTF-8", ErrInvalidConfig)
	}
	chars := []rune(alphabet)
	if len(chars) < 2 || len(chars) > 1<<16 {
		return nil, fmt.Errorf("%w: alphabet of %d characters, want 2 to 65536", ErrInvalidConfig, len(chars))
	}
	seen := make(map[rune]struct{}, len(chars))
	for _, c := range chars {
		if _, dup := seen[c]; dup {
			return nil, fmt.Errorf("%w: alphabet repeats %q, which would bias the output", ErrInvalidConfig, c)
		}
		seen[c] = struct{}{}
	}
	return chars, nil
}

// Equal reports whether a and b are equal, in time that depends on their
// lengths but not their contents, for comparing tokens, MACs and hashes.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// EqualString is Equal for strings.
func EqualString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
