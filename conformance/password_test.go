package conformance

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/bedrock-go/bedrock/auth/password"
)

// TestArgon2Ref_RFC9106Vectors holds the reference written from the RFC to
// the RFC's own test vectors (§5.1-5.3: Argon2d, Argon2i, Argon2id with a
// secret and associated data), so that it can referee below.
func TestArgon2Ref_RFC9106Vectors(t *testing.T) {
	cases := []struct {
		name string
		typ  int
		tag  string
	}{
		{"Argon2d", argon2d, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"},
		{"Argon2i", argon2i, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"},
		{"Argon2id", argon2id, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := argon2Ref(argon2Params{
				typ: c.typ, memory: 32, passes: 3, lanes: 4, tagLen: 32,
				password: bytes.Repeat([]byte{1}, 32), salt: bytes.Repeat([]byte{2}, 16),
				secret: bytes.Repeat([]byte{3}, 8), data: bytes.Repeat([]byte{4}, 12),
			})
			assert.Equal(t, c.tag, hex.EncodeToString(got))
		})
	}
}

// TestArgon2Ref_AgreesWithXCrypto compares the reference with x/crypto
// where x/crypto can follow (no secret, no associated data), over the
// lengths and lane counts Bedrock may read.
func TestArgon2Ref_AgreesWithXCrypto(t *testing.T) {
	for _, c := range []struct{ m, t, p, keyLen uint32 }{
		{64, 1, 1, 12}, {64, 2, 2, 16}, {256, 2, 1, 32}, {256, 3, 4, 64}, {1024, 2, 1, 65},
	} {
		t.Run(fmt.Sprintf("m=%d,t=%d,p=%d,len=%d", c.m, c.t, c.p, c.keyLen), func(t *testing.T) {
			pw, salt := []byte("password"), []byte("somesalt")
			want := argon2.IDKey(pw, salt, c.t, c.m, uint8(c.p), c.keyLen)
			got := argon2Ref(argon2Params{typ: argon2id, password: pw, salt: salt, memory: c.m, passes: c.t, lanes: c.p, tagLen: c.keyLen})
			assert.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got))
		})
	}
}

func testHasher(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.New(password.Config{})
	require.NoError(t, err)
	return h
}

// TestPHC_ReferenceStrings verifies PHC strings written by the reference
// implementation (phc-winner-argon2's test suite and its CLI) for
// "password" with the salt "somesalt".
func TestPHC_ReferenceStrings(t *testing.T) {
	h := testHasher(t)
	for _, s := range []string{
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
	} {
		t.Run(s, func(t *testing.T) {
			// The string is what the reference wrote, as x/crypto and the
			// RFC reference compute it too.
			p := parsePHC(t, s)
			assert.Equal(t, p.key, argon2.IDKey([]byte("password"), p.salt, p.t, p.m, uint8(p.p), uint32(len(p.key))))
			ok, _, err := h.Verify(context.Background(), "password", s)
			require.NoError(t, err)
			assert.True(t, ok)
			if p.m <= 1024 { // the 64 MiB string is the slowest step: once is enough
				ok, _, err = h.Verify(context.Background(), "passwore", s)
				require.NoError(t, err)
				assert.False(t, ok)
			}
		})
	}
}

type phcString struct {
	m, t, p   uint32
	salt, key []byte
}

// parsePHC reads $argon2id$v=19$m=..,t=..,p=..$salt$key strictly.
func parsePHC(t *testing.T, s string) phcString {
	t.Helper()
	parts := strings.Split(s, "$")
	require.Len(t, parts, 6, s)
	require.Equal(t, "argon2id", parts[1])
	require.Equal(t, "v=19", parts[2])
	var out phcString
	for i, kv := range strings.Split(parts[3], ",") {
		name, value, ok := strings.Cut(kv, "=")
		require.True(t, ok)
		require.Equal(t, []string{"m", "t", "p"}[i], name, "parameters in PHC order")
		n, err := strconv.ParseUint(value, 10, 32)
		require.NoError(t, err)
		*[]*uint32{&out.m, &out.t, &out.p}[i] = uint32(n)
	}
	var err error
	out.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4])
	require.NoError(t, err)
	out.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5])
	require.NoError(t, err)
	return out
}

// TestPHC_BedrockHashesAnchorsVerify recomputes Bedrock's hashes with
// x/crypto and with the RFC reference.
func TestPHC_BedrockHashesAnchorsVerify(t *testing.T) {
	h := testHasher(t)
	for _, pw := range []string{"correct horse battery", "p", strings.Repeat("ü", 40)} {
		t.Run(pw, func(t *testing.T) {
			s, err := h.Hash(context.Background(), pw)
			require.NoError(t, err)
			p := parsePHC(t, s)
			assert.Len(t, p.key, 32, "new hashes keep 32-byte outputs")
			xc := argon2.IDKey([]byte(pw), p.salt, p.t, p.m, uint8(p.p), uint32(len(p.key)))
			assert.Equal(t, p.key, xc, "x/crypto")
			ref := argon2Ref(argon2Params{typ: argon2id, password: []byte(pw), salt: p.salt,
				memory: p.m, passes: p.t, lanes: p.p, tagLen: uint32(len(p.key))})
			assert.Equal(t, p.key, ref, "RFC 9106 reference")
		})
	}
}

// TestPHC_AnchorsHashBedrockVerifies writes PHC strings from x/crypto and
// the RFC reference with every output length the PHC string format allows
// for Argon2 (12 to 64 bytes) and salts of 8 to 64 bytes. Lengths 12 to 15
// are item 21.3.
func TestPHC_AnchorsHashBedrockVerifies(t *testing.T) {
	h := testHasher(t)
	const pw = "correct horse battery"
	for _, keyLen := range []uint32{12, 13, 15, 16, 20, 31, 32, 33, 48, 64} {
		for _, saltLen := range []int{8, 16, 64} {
			salt := bytes.Repeat([]byte{0xa5}, saltLen)
			m, tm, p := uint32(256), uint32(2), uint32(1)
			producers := map[string][]byte{
				"x/crypto":  argon2.IDKey([]byte(pw), salt, tm, m, uint8(p), keyLen),
				"reference": argon2Ref(argon2Params{typ: argon2id, password: []byte(pw), salt: salt, memory: m, passes: tm, lanes: p, tagLen: keyLen}),
			}
			for name, key := range producers {
				name := fmt.Sprintf("%s/key %d bytes/salt %d bytes", name, keyLen, saltLen)
				if keyLen < 16 {
					name += " (item 21.3)"
				}
				t.Run(name, func(t *testing.T) {
					s := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, tm, p,
						base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
					ok, rehash, err := h.Verify(context.Background(), pw, s)
					require.NoError(t, err, s)
					assert.True(t, ok)
					assert.True(t, rehash, "parameters weaker than the defaults ask for a rehash")
					ok, _, err = h.Verify(context.Background(), pw+"!", s)
					require.NoError(t, err)
					assert.False(t, ok)
				})
			}
		}
	}
}

// TestPHC_Refusals: what the reference decoder reads differently must not
// be read at all, with the right error.
func TestPHC_Refusals(t *testing.T) {
	h := testHasher(t)
	const valid = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	cases := []struct {
		name, hash string
		want       error
	}{
		// The reference decoder reads a string without v= as version 0x10,
		// which Bedrock does not compute: unsupported, not malformed.
		{"no v= means version 0x10 (item 21.3)", "$argon2id$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrUnsupportedHash},
		{"v=16", strings.Replace(valid, "v=19", "v=16", 1), password.ErrUnsupportedHash},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1), password.ErrUnsupportedHash},
		{"argon2d", strings.Replace(valid, "argon2id", "argon2d", 1), password.ErrUnsupportedHash},
		{"11-byte output", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" + base64.RawStdEncoding.EncodeToString(make([]byte, 11)), password.ErrMalformedHash},
		{"padded base64", valid + "=", password.ErrMalformedHash},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, _, err := h.Verify(context.Background(), "password", c.hash)
			assert.ErrorIs(t, err, c.want)
			assert.False(t, ok)
		})
	}
}

// TestBcrypt_XCryptoHashesBedrockVerifies: Bedrock verifies bcrypt to
// migrate users and never writes it. Every prefix in use names the same
// algorithm for passwords under 72 bytes.
func TestBcrypt_XCryptoHashesBedrockVerifies(t *testing.T) {
	h := testHasher(t)
	for _, pw := range []string{"correct horse battery", "p", strings.Repeat("x", 72)} {
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(hash), "$2a$"))
		for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
			s := prefix + string(hash[4:])
			t.Run(fmt.Sprintf("%s/%d bytes", prefix, len(pw)), func(t *testing.T) {
				ok, rehash, err := h.Verify(context.Background(), pw, s)
				require.NoError(t, err)
				assert.True(t, ok)
				assert.True(t, rehash, "bcrypt always asks for a rehash to argon2id")
				ok, _, err = h.Verify(context.Background(), pw[:len(pw)-1]+"?", s)
				require.NoError(t, err)
				assert.False(t, ok)
			})
		}
	}
	t.Run("over 72 bytes: refused where x/crypto refuses too", func(t *testing.T) {
		long := strings.Repeat("x", 73)
		_, err := bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
		require.Error(t, err, "x/crypto refuses to hash more than 72 bytes")
		hash, err := bcrypt.GenerateFromPassword([]byte(long[:72]), bcrypt.MinCost)
		require.NoError(t, err)
		ok, _, err := h.Verify(context.Background(), long, string(hash))
		assert.False(t, ok, "a 73-byte password must not match the hash of its first 72 bytes")
		assert.ErrorIs(t, err, password.ErrTooLong)
	})
}
