package totp_test

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/totp"
)

var serverKey = bytes.Repeat([]byte{7}, 32)

func newHasher(t testing.TB) *totp.RecoveryHasher {
	h, err := totp.NewRecoveryHasher(serverKey)
	require.NoError(t, err)
	return h
}

func TestRecovery_GenerateShapeAndUniqueness(t *testing.T) {
	codes, hashes := newHasher(t).Generate()
	require.Len(t, codes, totp.RecoverySetSize)
	require.Len(t, hashes, totp.RecoverySetSize)
	shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)
	seen := map[string]bool{}
	for i, c := range codes {
		assert.Regexp(t, shape, c)
		assert.False(t, seen[c])
		seen[c] = true
		assert.Len(t, hashes[i], 32)
		assert.NotContains(t, string(hashes[i]), c, "only the hash is stored")
	}
}

func TestRecovery_MatchReturnsIndexAndIsSingleUse(t *testing.T) {
	h := newHasher(t)
	codes, hashes := h.Generate()
	i, err := h.Match(codes[3], hashes)
	require.NoError(t, err)
	assert.Equal(t, 3, i)

	hashes = append(hashes[:i], hashes[i+1:]...) // the caller deletes it
	_, err = h.Match(codes[3], hashes)
	assert.ErrorIs(t, err, totp.ErrWrongRecoveryCode)
	assert.ErrorIs(t, err, auth.ErrInvalidCredential)
}

func TestRecovery_RegenerateInvalidatesOldSet(t *testing.T) {
	h := newHasher(t)
	old, _ := h.Generate()
	_, fresh := h.Generate()
	for _, c := range old {
		_, err := h.Match(c, fresh)
		assert.ErrorIs(t, err, totp.ErrWrongRecoveryCode)
	}
}

func TestRecovery_OtherServerKeyDoesNotMatch(t *testing.T) {
	codes, hashes := newHasher(t).Generate()
	other, err := totp.NewRecoveryHasher(bytes.Repeat([]byte{8}, 32))
	require.NoError(t, err)
	_, err = other.Match(codes[0], hashes)
	assert.ErrorIs(t, err, totp.ErrWrongRecoveryCode)
	_, err = totp.NewRecoveryHasher(make([]byte, 31))
	assert.ErrorIs(t, err, totp.ErrRecoveryKey)
}

func TestNormalizeRecoveryCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"abcd-efgh-jkmn", "abcdefghjkmn", true},
		{"ABCD-EFGH-JKMN", "abcdefghjkmn", true},
		{"abcd efgh jkmn", "abcdefghjkmn", true},
		{" abcdefghjkmn ", "abcdefghjkmn", true},
		{"a-b-c-d-e-f-g-h-j-k-m-n", "abcdefghjkmn", true},
		{"OOOO-IIII-LLLL", "000011111111", true},
		{"abcd-efgh-jkm", "", false},
		{"abcd-efgh-jkmnp", "", false},
		{"abcd-efgh-jkmu", "", false},
		{"abcd_efgh_jkmn", "", false},
		{"abcd-efgh-jkmé", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := totp.NormalizeRecoveryCode(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRecovery_MatchNormalises(t *testing.T) {
	h := newHasher(t)
	codes, hashes := h.Generate()
	typed := " " + string(bytes.ToUpper([]byte(codes[5]))) + " "
	i, err := h.Match(typed, hashes)
	require.NoError(t, err)
	assert.Equal(t, 5, i)
	_, err = h.Match("not a code", hashes)
	assert.ErrorIs(t, err, totp.ErrMalformedRecoveryCode)
}
