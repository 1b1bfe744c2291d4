package password_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"

	"github.com/bedrock-go/bedrock/auth/password"
)

// phcOf computes an argon2id PHC string with golang.org/x/crypto/argon2, an
// implementation independent of the Hasher's encoding and decoding.
func phcOf(pw, salt string, m, t uint32, p uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(pw), []byte(salt), t, m, p, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		b64.EncodeToString([]byte(salt)), b64.EncodeToString(key))
}

// TestVerify_PHCOutputLengthsTheFormatAllows: the PHC string format allows
// argon2 outputs of 12 to 64 bytes; all verify, shorter than the current 32
// ask for a rehash, and new hashes stay at 32.
func TestVerify_PHCOutputLengthsTheFormatAllows(t *testing.T) {
	h := newHasher(t, password.Config{})
	ctx := context.Background()
	for _, n := range []uint32{12, 15, 16, 32, 64} {
		t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
			stored := phcOf("correct horse", "somesaltsomesalt", 64, 1, 1, n)
			ok, rehash, err := h.Verify(ctx, "correct horse", stored)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, n < 32, rehash, "shorter than the current output needs a rehash")

			ok, _, err = h.Verify(ctx, "correct horsf", stored)
			require.NoError(t, err)
			assert.False(t, ok)
		})
	}
	for _, n := range []uint32{8, 11} {
		t.Run(fmt.Sprintf("%d bytes is too short", n), func(t *testing.T) {
			_, _, err := h.Verify(ctx, "correct horse", phcOf("correct horse", "somesaltsomesalt", 64, 1, 1, n))
			assert.ErrorIs(t, err, password.ErrMalformedHash)
		})
	}
	t.Run("65 bytes is beyond the bounds", func(t *testing.T) {
		_, _, err := h.Verify(ctx, "correct horse", phcOf("correct horse", "somesaltsomesalt", 64, 1, 1, 65))
		assert.ErrorIs(t, err, password.ErrParamsOutOfBounds)
	})
	t.Run("new hashes have 32 bytes", func(t *testing.T) {
		enc, err := h.Hash(ctx, "correct horse")
		require.NoError(t, err)
		key := enc[strings.LastIndexByte(enc, '$')+1:]
		assert.Len(t, key, base64.RawStdEncoding.EncodedLen(32))
	})
}

// TestVerify_PHCWithoutVersionIsUnsupported: the reference decoder reads a
// PHC string without v= as argon2 version 0x10, which is not supported.
func TestVerify_PHCWithoutVersionIsUnsupported(t *testing.T) {
	h := newHasher(t, password.Config{})
	v19 := phcOf("pw", "somesaltsomesalt", 64, 1, 1, 32)
	noV := strings.Replace(v19, "$v=19", "", 1)
	_, _, err := h.Verify(context.Background(), "pw", noV)
	assert.ErrorIs(t, err, password.ErrUnsupportedHash)
	assert.NotErrorIs(t, err, password.ErrMalformedHash)

	_, _, err = h.Verify(context.Background(), "pw", "$argon2id$x=1$"+strings.SplitN(v19, "$", 5)[4])
	assert.ErrorIs(t, err, password.ErrMalformedHash, "a field that is neither v= nor parameters is malformed")
}

// TestVerify_PHCBase64RefusesLineBreaks: encoding/base64 skips CR and LF
// even in strict mode; a stored hash with them is malformed.
func TestVerify_PHCBase64RefusesLineBreaks(t *testing.T) {
	h := newHasher(t, password.Config{})
	stored := phcOf("pw", "somesaltsomesalt", 64, 1, 1, 32)
	i := strings.LastIndexByte(stored, '$')
	for name, s := range map[string]string{
		"CRLF in the hash": stored[:i+5] + "\r\n" + stored[i+5:],
		"LF in the salt":   strings.Replace(stored, "$c29t", "$c2\n9t", 1),
	} {
		t.Run(name, func(t *testing.T) {
			ok, _, err := h.Verify(context.Background(), "pw", s)
			assert.False(t, ok)
			assert.ErrorIs(t, err, password.ErrMalformedHash)
		})
	}
}
