package conformance

import (
	"encoding/base32"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/totp"
)

var totpCases = []struct {
	alg    totp.Algorithm
	palg   otp.Algorithm
	digits int
	pdig   otp.Digits
}{
	{totp.SHA1, otp.AlgorithmSHA1, 6, otp.DigitsSix},
	{totp.SHA256, otp.AlgorithmSHA256, 8, otp.DigitsEight},
	{totp.SHA512, otp.AlgorithmSHA512, 8, otp.DigitsEight},
}

// TestTOTP_CodesMatchPquerna: for 1,000 seeded random secrets and times
// per algorithm, Bedrock's code equals github.com/pquerna/otp's, and each
// library accepts the other's code.
func TestTOTP_CodesMatchPquerna(t *testing.T) {
	rng := rand.New(rand.NewPCG(6238, 31))
	for _, c := range totpCases {
		t.Run(c.alg.String(), func(t *testing.T) {
			for range 1000 {
				secret := make([]byte, totp.MinSecretLen+rng.IntN(totp.MaxSecretLen-totp.MinSecretLen+1))
				for i := range secret {
					secret[i] = byte(rng.Uint32())
				}
				at := time.Unix(rng.Int64N(4_102_444_800), 0) // up to 2100
				key := &totp.Key{Issuer: "x", Account: "a", Secret: secret, Algorithm: c.alg, Digits: c.digits, Period: 30 * time.Second}
				ours, err := totp.Code(key, at)
				require.NoError(t, err)
				opts := ptotp.ValidateOpts{Period: 30, Digits: c.pdig, Algorithm: c.palg}
				theirs, err := ptotp.GenerateCodeCustom(b32(secret), at, opts)
				require.NoError(t, err)
				require.Equal(t, theirs, ours, "secret %x at %d", secret, at.Unix())

				a, err := totp.New(totp.Config{Issuer: "x", Now: func() time.Time { return at }})
				require.NoError(t, err)
				_, err = a.Verify(key, theirs, 0)
				require.NoError(t, err)
				ok, err := ptotp.ValidateCustom(ours, b32(secret), at, opts)
				require.NoError(t, err)
				require.True(t, ok)
			}
		})
	}
}

func b32(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// TestTOTP_URIReadByPquerna: pquerna's otp.NewKeyFromURL reads Bedrock's
// otpauth URI to the same secret, issuer, account, period, digits and
// algorithm; and Bedrock reads pquerna's generated URI back.
func TestTOTP_URIReadByPquerna(t *testing.T) {
	for _, c := range totpCases {
		t.Run(c.alg.String(), func(t *testing.T) {
			a, err := totp.New(totp.Config{Issuer: "Example Corp", Algorithm: c.alg, Digits: c.digits, Period: 60 * time.Second})
			require.NoError(t, err)
			key, err := a.NewKey("alice+mfa@example.com")
			require.NoError(t, err)

			pk, err := otp.NewKeyFromURL(key.URI())
			require.NoError(t, err)
			assert.Equal(t, "totp", pk.Type())
			assert.Equal(t, b32(key.Secret), pk.Secret())
			assert.Equal(t, "Example Corp", pk.Issuer())
			assert.Equal(t, "alice+mfa@example.com", pk.AccountName())
			assert.Equal(t, uint64(60), pk.Period())
			assert.Equal(t, c.pdig, pk.Digits())
			assert.Equal(t, c.palg, pk.Algorithm())

			gen, err := ptotp.Generate(ptotp.GenerateOpts{Issuer: "Example Corp", AccountName: "bob@example.com",
				Period: 60, Digits: c.pdig, Algorithm: c.palg})
			require.NoError(t, err)
			back, err := totp.ParseURI(gen.URL())
			require.NoError(t, err)
			assert.Equal(t, "Example Corp", back.Issuer)
			assert.Equal(t, "bob@example.com", back.Account)
			assert.Equal(t, gen.Secret(), b32(back.Secret))
			assert.Equal(t, c.alg, back.Algorithm)
			assert.Equal(t, c.digits, back.Digits)
			assert.Equal(t, time.Minute, back.Period)
		})
	}
}
