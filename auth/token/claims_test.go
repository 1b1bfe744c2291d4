package token_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/token"
)

// TestVerify_NumericDatesAtTheExtremes: time.Unix(2^63-1, 0) overflows and
// wrapped into the past, so nbf or iat = 2^63-1 passed (issue 20.9). A
// NumericDate must name a second from 1970 to the end of year 9999.
func TestVerify_NumericDatesAtTheExtremes(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	sign := hs256(secr)
	hsHeader := `{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}`
	exp := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	claims := func(extra string) string {
		return `{"iss":"https://id.example","aud":"api","exp":` + exp + extra + `}`
	}
	withExp := func(e string) string { return `{"iss":"https://id.example","aud":"api","exp":` + e + `}` }
	maxDate := strconv.FormatInt(int64(token.MaxNumericDate), 10)
	past := strconv.FormatInt(int64(token.MaxNumericDate)+1, 10)

	cases := []struct {
		name    string
		payload string
		want    error // nil: accepted
	}{
		{"nbf 2^63-1", claims(`,"nbf":9223372036854775807`), token.ErrDate},
		{"iat 2^63-1", claims(`,"iat":9223372036854775807`), token.ErrDate},
		{"exp 2^63-1", withExp(`9223372036854775807`), token.ErrDate},
		{"nbf 2^63", claims(`,"nbf":9223372036854775808`), token.ErrDate},
		{"nbf 2^62", claims(`,"nbf":4611686018427387904`), token.ErrDate},
		{"iat 2^62 as a float", claims(`,"iat":4.611686018427388e18`), token.ErrDate},
		{"nbf 1e400", claims(`,"nbf":1e400`), token.ErrDate},
		{"exp -1", withExp(`-1`), token.ErrDate},
		{"nbf -1", claims(`,"nbf":-1`), token.ErrDate},
		{"iat -2^63", claims(`,"iat":-9223372036854775808`), token.ErrDate},
		{"iat -0.5", claims(`,"iat":-0.5`), token.ErrDate},
		{"exp one past year 9999", withExp(past), token.ErrDate},
		{"exp at the end of year 9999", withExp(maxDate), nil},
		{"nbf at the end of year 9999", claims(`,"nbf":` + maxDate), token.ErrNotYetValid},
		{"iat at the end of year 9999", claims(`,"iat":` + maxDate), token.ErrNotYetValid},
		{"fractional exp", withExp(exp + ".75"), nil},
		{"fractional nbf and iat in the past", claims(fmt.Sprintf(`,"nbf":%d.5,"iat":%d.999`, now.Unix()-10, now.Unix()-10)), nil},
		{"exponent form", claims(fmt.Sprintf(`,"iat":%de0`, now.Unix())), nil},
		{"exp expired by a fraction beyond leeway", withExp(fmt.Sprintf("%d.9", now.Add(-31*time.Second).Unix())), token.ErrExpired},
		{"exp as a string", withExp(`"` + exp + `"`), token.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := forge(hsHeader, tc.payload, sign)
			_, err := v.Verify(ctx, tok)
			_, errTyped := token.VerifyAs[appClaims](ctx, v, tok)
			if tc.want == nil {
				assert.NoError(t, err)
				assert.NoError(t, errTyped)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, errTyped, tc.want, "the typed path agrees")
		})
	}
}

func TestNumericDate_UnmarshalJSON(t *testing.T) {
	var d token.NumericDate
	require.NoError(t, json.Unmarshal([]byte(`1700000000.9`), &d))
	assert.Equal(t, token.NumericDate(1700000000), d, "fractions are truncated")
	assert.ErrorIs(t, json.Unmarshal([]byte(`9223372036854775807`), &d), token.ErrDate)
	assert.ErrorIs(t, json.Unmarshal([]byte(`-1`), &d), token.ErrDate)
}

// TestIssue_RefusesDatesNoVerifierAccepts: the issuer never signs a token
// that every verifier must refuse.
func TestIssue_RefusesDatesNoVerifierAccepts(t *testing.T) {
	f := newFixture(t)
	iss := f.issuer(t, "ed-1")
	for name, c := range map[string]*token.Claims{
		"exp beyond year 9999": {ExpiresAt: token.MaxNumericDate + 1},
		"negative nbf":         {NotBefore: -5},
		"iat 2^62":             {IssuedAt: 1 << 62},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := iss.Issue(c)
			assert.ErrorIs(t, err, token.ErrDate)
		})
	}
}

// TestVerify_ClaimsMustBeValidUnicode: the registered path kept invalid
// UTF-8 as it was while the typed path (encoding/json) replaced it with
// U+FFFD, so the two decoded one token differently, and a lone surrogate
// in a member name could meet another name by that repair. Claims are
// held to the rule of header strings: text that is not valid Unicode is
// malformed, on both paths.
func TestVerify_ClaimsMustBeValidUnicode(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	sign := hs256(secr)
	hsHeader := `{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}`
	exp := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	claims := func(extra string) string {
		return `{"iss":"https://id.example","aud":"api","exp":` + exp + extra + `}`
	}
	cases := []struct {
		name    string
		payload string
		want    error // nil: accepted
	}{
		{"sub with invalid UTF-8", claims(`,"sub":"user` + "\xff" + `"`), token.ErrMalformed},
		{"sub with a lone surrogate", claims(`,"sub":"user\ud800"`), token.ErrMalformed},
		{"custom claim with a lone surrogate", claims(`,"roles":["admin\udc00"]`), token.ErrMalformed},
		{"member name with a lone surrogate", claims(`,"s\ud800":"x"`), token.ErrMalformed},
		{"member name with invalid UTF-8", claims(`,"s` + "\xff" + `":"x"`), token.ErrMalformed},
		{"escaped sub", claims(`,"sub":"us\u0065r-\ud83d\ude00"`), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := forge(hsHeader, tc.payload, sign)
			c, err := v.Verify(ctx, tok)
			typed, errTyped := token.VerifyAs[appClaims](ctx, v, tok)
			if tc.want == nil {
				require.NoError(t, err)
				require.NoError(t, errTyped)
				assert.Equal(t, "user-\U0001F600", c.Subject)
				assert.Equal(t, c.Subject, typed.Subject, "the typed path agrees")
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, errTyped, tc.want, "the typed path agrees")
		})
	}
}
