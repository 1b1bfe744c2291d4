package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/bedrock-go/bedrock/auth"
)

// Recovery code shape: RecoveryCodeLen symbols of a 32-symbol alphabet (5
// bits each, 60 bits a code), printed in groups of four.
const (
	// RecoveryCodeLen is the number of symbols in a recovery code, not
	// counting the dashes between groups.
	RecoveryCodeLen = 12
	// RecoverySetSize is the number of codes GenerateRecoveryCodes makes.
	RecoverySetSize = 10
	// MinRecoveryKeyLen is the shortest server key a RecoveryHasher takes.
	MinRecoveryKeyLen = 32
	// maxRecoveryInput bounds what normalisation reads.
	maxRecoveryInput = 64
)

// recoveryAlphabet is Crockford's base32 in lower case: no i, l, o or u,
// so that nothing reads as another symbol.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var (
	// ErrMalformedRecoveryCode means the input is not a recovery code
	// after normalisation. It wraps auth.ErrInvalidCredential.
	ErrMalformedRecoveryCode = fmt.Errorf("totp: malformed recovery code: %w", auth.ErrInvalidCredential)
	// ErrWrongRecoveryCode means the code matches none of the stored
	// hashes (it is wrong or was used). It wraps auth.ErrInvalidCredential.
	ErrWrongRecoveryCode = fmt.Errorf("totp: wrong recovery code: %w", auth.ErrInvalidCredential)
	// ErrRecoveryKey is returned by NewRecoveryHasher for a key shorter
	// than MinRecoveryKeyLen.
	ErrRecoveryKey = errors.New("totp: recovery key too short")
)

// RecoveryHasher makes and checks recovery codes, the single-use codes a
// user keeps for when the authenticator is lost. Only hashes are stored:
//
//	hash = HMAC-SHA-256(server key, normalised code)
//
// A fast keyed hash is enough because each code has 60 random bits: there
// is no dictionary to try and 2^60 guesses per code are out of reach of
// online attempts, which the caller rate-limits. The server key (kept
// outside the database, as the crypto key ring is) means a stolen table
// alone cannot even be searched offline. A RecoveryHasher is safe for
// concurrent use.
type RecoveryHasher struct{ key []byte }

// NewRecoveryHasher returns a hasher with key, at least MinRecoveryKeyLen
// random bytes that stay the same for as long as codes are stored. The
// error is ErrRecoveryKey.
func NewRecoveryHasher(key []byte) (*RecoveryHasher, error) {
	if len(key) < MinRecoveryKeyLen {
		return nil, ErrRecoveryKey
	}
	return &RecoveryHasher{key: append([]byte(nil), key...)}, nil
}

// Generate returns a new set of RecoverySetSize codes, formatted for the
// user ("xxxx-xxxx-xxxx"), and their hashes in the same order. Show the
// codes once; store only the hashes, replacing any earlier set whole
// (regenerating invalidates every old code).
func (h *RecoveryHasher) Generate() (codes []string, hashes [][]byte) {
	codes = make([]string, RecoverySetSize)
	hashes = make([][]byte, RecoverySetSize)
	for i := range codes {
		var raw [RecoveryCodeLen]byte
		_, _ = rand.Read(raw[:]) // never fails (Go 1.24)
		for j, b := range raw {
			raw[j] = recoveryAlphabet[b&31] // 256 is a multiple of 32: unbiased
		}
		codes[i] = string(raw[0:4]) + "-" + string(raw[4:8]) + "-" + string(raw[8:12])
		hashes[i] = h.hash(raw[:])
	}
	return codes, hashes
}

// Match checks code against the stored hashes of one user and returns the
// index of the hash it matches. The caller must delete that hash (so the
// code works once) before treating the user as authenticated. Every hash is
// compared, in constant time. Errors: ErrMalformedRecoveryCode and
// ErrWrongRecoveryCode, both counting as failed attempts.
func (h *RecoveryHasher) Match(code string, hashes [][]byte) (int, error) {
	norm, ok := NormalizeRecoveryCode(code)
	if !ok {
		return -1, ErrMalformedRecoveryCode
	}
	sum := h.hash([]byte(norm))
	found := -1
	for i, stored := range hashes {
		if subtle.ConstantTimeCompare(sum, stored) == 1 {
			found = i
		}
	}
	if found < 0 {
		return -1, ErrWrongRecoveryCode
	}
	return found, nil
}

func (h *RecoveryHasher) hash(norm []byte) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write(norm)
	return m.Sum(nil)
}

// NormalizeRecoveryCode returns the canonical form of a code as a user
// may type it: spaces and dashes are dropped, letters are lower-cased, and
// as in Crockford's base32 'o' reads as '0' and 'i' and 'l' as '1'. It
// reports false if what remains is not RecoveryCodeLen symbols of the
// alphabet.
func NormalizeRecoveryCode(s string) (string, bool) {
	if len(s) > maxRecoveryInput {
		return "", false
	}
	out := make([]byte, 0, RecoveryCodeLen)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case ' ', '-', '\t':
			continue
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if !validRecoverySymbol(c) || len(out) == RecoveryCodeLen {
			return "", false
		}
		out = append(out, c)
	}
	if len(out) != RecoveryCodeLen {
		return "", false
	}
	return string(out), true
}

func validRecoverySymbol(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u')
}
