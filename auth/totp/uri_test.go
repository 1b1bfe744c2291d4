package totp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/totp"
)

func TestKey_URIRoundTrip(t *testing.T) {
	for _, alg := range []totp.Algorithm{totp.SHA1, totp.SHA256, totp.SHA512} {
		a := newAuth(t, totp.Config{Issuer: "Example Corp", Algorithm: alg, Digits: 8, Period: 60 * time.Second})
		k, err := a.NewKey("alice+mfa@example.com")
		require.NoError(t, err)
		got, err := totp.ParseURI(k.URI())
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
}

func TestKey_URIFormat(t *testing.T) {
	k := rfcKey(totp.SHA1)
	k.Issuer, k.Account, k.Digits = "Example Corp", "alice@example.com", 6
	assert.Equal(t, "otpauth://totp/Example%20Corp:alice@example.com?algorithm=SHA1&digits=6&issuer=Example+Corp&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", k.URI())
}

func TestParseURI_Accepts(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	tests := []struct {
		name, uri       string
		issuer, account string
		alg             totp.Algorithm
		digits          int
		period          time.Duration
	}{
		{"defaults", "otpauth://totp/alice?secret=" + secret, "", "alice", totp.SHA1, 6, 30 * time.Second},
		{"issuer from label", "otpauth://totp/ACME:alice?secret=" + secret, "ACME", "alice", totp.SHA1, 6, 30 * time.Second},
		{"issuer parameter only", "otpauth://totp/alice?issuer=ACME&secret=" + secret, "ACME", "alice", totp.SHA1, 6, 30 * time.Second},
		{"space after colon", "otpauth://totp/ACME:%20alice?secret=" + secret, "ACME", "alice", totp.SHA1, 6, 30 * time.Second},
		{"lower-case padded secret", "otpauth://totp/a?secret=" + strings.ToLower(secret) + "====", "", "a", totp.SHA1, 6, 30 * time.Second},
		{"sha512 8 digits 60s", "otpauth://totp/a?secret=" + secret + "&algorithm=sha512&digits=8&period=60", "", "a", totp.SHA512, 8, time.Minute},
		{"upper-case scheme", "OTPAUTH://TOTP/a?secret=" + secret, "", "a", totp.SHA1, 6, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := totp.ParseURI(tt.uri)
			require.NoError(t, err)
			assert.Equal(t, []byte("12345678901234567890"), k.Secret)
			assert.Equal(t, tt.issuer, k.Issuer)
			assert.Equal(t, tt.account, k.Account)
			assert.Equal(t, tt.alg, k.Algorithm)
			assert.Equal(t, tt.digits, k.Digits)
			assert.Equal(t, tt.period, k.Period)
		})
	}
}

func TestParseURI_Refuses(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	tests := []struct {
		name, uri string
		want      error
	}{
		{"empty", "", totp.ErrInvalidURI},
		{"not a URL", "otpauth://totp/%zz?secret=" + secret, totp.ErrInvalidURI},
		{"http", "https://totp/a?secret=" + secret, totp.ErrInvalidURI},
		{"hotp", "otpauth://hotp/a?secret=" + secret + "&counter=1", totp.ErrInvalidURI},
		{"userinfo", "otpauth://u@totp/a?secret=" + secret, totp.ErrInvalidURI},
		{"no account", "otpauth://totp/ACME:?secret=" + secret, totp.ErrInvalidURI},
		{"no secret", "otpauth://totp/a", totp.ErrInvalidURI},
		{"secret not base32", "otpauth://totp/a?secret=GEZ1", totp.ErrInvalidURI},
		{"short secret", "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ", totp.ErrInvalidKey},
		{"long secret", "otpauth://totp/a?secret=" + strings.Repeat("A", 400), totp.ErrInvalidKey},
		{"issuer mismatch", "otpauth://totp/ACME:a?issuer=Other&secret=" + secret, totp.ErrInvalidURI},
		{"repeated secret", "otpauth://totp/a?secret=" + secret + "&secret=" + secret, totp.ErrInvalidURI},
		{"unknown algorithm", "otpauth://totp/a?algorithm=MD5&secret=" + secret, totp.ErrInvalidURI},
		{"seven digits", "otpauth://totp/a?digits=7&secret=" + secret, totp.ErrInvalidKey},
		{"digits overflow", "otpauth://totp/a?digits=99999999999999999999&secret=" + secret, totp.ErrInvalidURI},
		{"zero period", "otpauth://totp/a?period=0&secret=" + secret, totp.ErrInvalidKey},
		{"negative period", "otpauth://totp/a?period=-30&secret=" + secret, totp.ErrInvalidKey},
		{"period too long", "otpauth://totp/a?period=3600&secret=" + secret, totp.ErrInvalidKey},
		{"too long", "otpauth://totp/" + strings.Repeat("a", totp.MaxURILen) + "?secret=" + secret, totp.ErrInvalidURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := totp.ParseURI(tt.uri)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// The secret is in the URI; a parse error must not repeat it.
func TestParseURI_ErrorDoesNotLeakSecret(t *testing.T) {
	_, err := totp.ParseURI("otpauth://totp/%zz?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "GEZDGNBV")
}
