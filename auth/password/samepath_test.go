package password

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// countKDF makes h count its argon2id runs.
func countKDF(h *Hasher) *atomic.Int32 {
	var runs atomic.Int32
	next := h.kdf
	h.kdf = func(pw, salt []byte, p Params) []byte {
		runs.Add(1)
		return next(pw, salt, p)
	}
	return &runs
}

// outcome is what a caller can observe of a failed login: the class of the
// error and whether argon2id ran.
type outcome struct {
	class string
	runs  int32
}

func classify(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, ErrTooLong):
		return "ErrTooLong"
	}
	return "other: " + err.Error()
}

// hostilePasswords are inputs an attacker sends to tell known accounts from
// unknown ones: over-long before or after NFKC, invalid UTF-8, NUL bytes.
var hostilePasswords = map[string]string{
	"NFKC expands 1023 bytes to 11 KB":     strings.Repeat("\ufdfa", 341),
	"one byte over the cap":                strings.Repeat("a", MaxPasswordBytes+1),
	"exactly the cap":                      strings.Repeat("a", MaxPasswordBytes),
	"over the cap before normalisation":    strings.Repeat("a", 4*MaxPasswordBytes+1),
	"1 MiB":                                strings.Repeat("x", 1<<20),
	"combining marks past the cap":         "e" + strings.Repeat("\u0301", 600),
	"invalid UTF-8":                        "\xff\xfe\xfd",
	"invalid UTF-8 over the cap":           strings.Repeat("\xff", 2*MaxPasswordBytes),
	"encoded surrogate":                    "\xed\xa0\x80",
	"NUL inside":                           "pass\x00word",
	"only NULs":                            strings.Repeat("\x00", 64),
	"NULs over the cap":                    strings.Repeat("\x00", MaxPasswordBytes+1),
	"empty":                                "",
	"ligatures expanding to exactly 1024":  strings.Repeat("\ufb01", 512),
	"ligatures expanding to one past 1024": strings.Repeat("\ufb01", 512) + "a",
}

func TestVerifyAndVerifyDummy_SamePathForHostilePasswords(t *testing.T) {
	peppered := []Pepper{{ID: "p1", Key: []byte(strings.Repeat("k", 32))}}
	for _, peppers := range [][]Pepper{nil, peppered} {
		h, err := New(Config{Params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, Peppers: peppers})
		require.NoError(t, err)
		runs := countKDF(h)
		ctx := context.Background()
		known, err := h.Hash(ctx, "the account's real password")
		require.NoError(t, err)

		for name, pw := range hostilePasswords {
			t.Run(name, func(t *testing.T) {
				runs.Store(0)
				ok, rehash, err := h.Verify(ctx, pw, known)
				existing := outcome{classify(err), runs.Load()}
				assert.False(t, ok)
				assert.False(t, rehash)

				runs.Store(0)
				unknown := outcome{classify(h.VerifyDummy(ctx, pw)), runs.Load()}

				assert.Equal(t, existing, unknown, "an existing account must answer like an unknown one")
				assert.Equal(t, int32(1), existing.runs, "argon2id runs once for every input")
			})
		}
	}
}

// TestVerify_OverlongNeverMatchesItsPrefix: the bytes hashed to spend the
// time of a refused password must not let it match a hash of its prefix.
func TestVerify_OverlongNeverMatchesItsPrefix(t *testing.T) {
	h, err := New(Config{Params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	require.NoError(t, err)
	ctx := context.Background()
	prefix := strings.Repeat("a", MaxPasswordBytes)
	enc, err := h.Hash(ctx, prefix)
	require.NoError(t, err)
	ok, _, err := h.Verify(ctx, prefix+"a", enc)
	assert.False(t, ok)
	assert.ErrorIs(t, err, ErrTooLong)
}

// TestVerify_OverlongBcryptPasswordCostsAComparison: bcrypt's 72-byte limit
// is refused, never truncated, and refusing costs a comparison like any
// answer.
func TestVerify_OverlongBcryptPasswordCostsAComparison(t *testing.T) {
	h, err := New(Config{Params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	require.NoError(t, err)
	var runs atomic.Int32
	next := h.bcrypt
	h.bcrypt = func(hash, pw []byte) error { runs.Add(1); return next(hash, pw) }
	pw72 := strings.Repeat("p", 72)
	enc, err := bcrypt.GenerateFromPassword([]byte(pw72), bcrypt.MinCost)
	require.NoError(t, err)

	ok, _, err := h.Verify(context.Background(), pw72+"p", string(enc))
	assert.False(t, ok, "the first 72 bytes match, yet a longer password is refused")
	assert.ErrorIs(t, err, ErrTooLong)
	assert.Equal(t, int32(1), runs.Load())
}

// FuzzVerifySamePathAsDummy: for any password, Verify against a known hash
// and VerifyDummy answer with the same class of error after one argon2id
// computation each, and only the real password (up to NFKC) matches.
func FuzzVerifySamePathAsDummy(f *testing.F) {
	h, err := New(Config{Params: Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}})
	if err != nil {
		f.Fatal(err)
	}
	runs := countKDF(h)
	ctx := context.Background()
	known, err := h.Hash(ctx, "the real password")
	if err != nil {
		f.Fatal(err)
	}
	for _, pw := range hostilePasswords {
		f.Add(pw)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		runs.Store(0)
		ok, _, errV := h.Verify(ctx, pw, known)
		existing := outcome{classify(errV), runs.Load()}
		runs.Store(0)
		unknown := outcome{classify(h.VerifyDummy(ctx, pw)), runs.Load()}
		if existing != unknown || existing.runs != 1 {
			t.Fatalf("Verify %+v, VerifyDummy %+v", existing, unknown)
		}
		if n, _ := normalize(pw); ok && string(n) != "the real password" {
			t.Fatalf("%q matched", pw)
		}
	})
}
