package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/token"
)

var (
	now  = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	enc  = base64.RawURLEncoding
	ctx  = context.Background()
	secr = []byte("0123456789abcdef0123456789abcdef")
)

type fixture struct {
	ed, es, hs *token.Key
	ring       *token.KeyRing
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	ed, err := token.GenerateEd25519("ed-1")
	require.NoError(t, err)
	es, err := token.GenerateES256("es-1")
	require.NoError(t, err)
	hs, err := token.NewHS256("hs-1", secr)
	require.NoError(t, err)
	ring, err := token.NewKeyRing(ed, es, hs)
	require.NoError(t, err)
	return fixture{ed: ed, es: es, hs: hs, ring: ring}
}

func (f fixture) verifier(t testing.TB, mod func(*token.VerifierConfig)) *token.Verifier {
	t.Helper()
	cfg := token.VerifierConfig{
		Keys: f.ring, Issuer: "https://id.example", Audience: "api",
		Algorithms: []token.Algorithm{token.EdDSA, token.ES256, token.HS256},
		Now:        func() time.Time { return now },
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := token.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

func (f fixture) issuer(t testing.TB, signing string) *token.Issuer {
	t.Helper()
	require.NoError(t, f.ring.Promote(signing))
	iss, err := token.NewIssuer(token.IssuerConfig{Keys: f.ring, Issuer: "https://id.example", Audience: []string{"api"},
		Now: func() time.Time { return now }})
	require.NoError(t, err)
	return iss
}

// forge builds a token from raw header and payload JSON, signed by sign.
func forge(header, payload string, sign func(input []byte) []byte) string {
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	return input + "." + enc.EncodeToString(sign([]byte(input)))
}

func hs256(key []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil)
	}
}

func validPayload() string {
	return fmt.Sprintf(`{"iss":"https://id.example","sub":"user_1","aud":"api","exp":%d,"iat":%d}`,
		now.Add(time.Minute).Unix(), now.Unix())
}

type appClaims struct {
	token.Claims
	Roles  []string `json:"roles"`
	Tenant string   `json:"tenant"`
}

func TestIssueVerify_RoundTripEveryAlgorithm(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	for _, kid := range []string{"ed-1", "es-1", "hs-1"} {
		t.Run(kid, func(t *testing.T) {
			tok, err := f.issuer(t, kid).Issue(&appClaims{Claims: token.Claims{Subject: "user_1"}, Roles: []string{"admin"}, Tenant: "acme"})
			require.NoError(t, err)
			got, err := token.VerifyAs[appClaims](ctx, v, tok)
			require.NoError(t, err)
			assert.Equal(t, "user_1", got.Subject)
			assert.Equal(t, []string{"admin"}, got.Roles)
			assert.Equal(t, "acme", got.Tenant)
			assert.Equal(t, token.Audience{"api"}, got.Audience)
			assert.Equal(t, token.At(now.Add(15*time.Minute)), got.ExpiresAt)
			assert.NotEmpty(t, got.ID)

			reg, err := v.Verify(ctx, tok)
			require.NoError(t, err)
			assert.Equal(t, got.Claims, *reg)

			header, _ := enc.DecodeString(strings.Split(tok, ".")[0])
			assert.Contains(t, string(header), `"typ":"at+jwt"`)
			assert.Contains(t, string(header), `"kid":"`+kid+`"`)
		})
	}
}

// TestVerify_AttackSuite lists tokens every verifier must refuse, with the
// error each must give.
func TestVerify_AttackSuite(t *testing.T) {
	f := newFixture(t)
	edOnly := f.verifier(t, func(c *token.VerifierConfig) { c.Algorithms = nil })
	all := f.verifier(t, nil)
	good := validPayload()
	hsHeader := `{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}`
	sign := hs256(secr)
	edPub, err := f.ed.Public()
	require.NoError(t, err)
	pubJWKS, _ := token.MarshalJWKS([]*token.Key{edPub})
	exp := func(d time.Duration) string {
		return fmt.Sprintf(`{"iss":"https://id.example","aud":"api","exp":%d}`, now.Add(d).Unix())
	}
	hugeDots := strings.Repeat(".", 1<<20)
	esSigned, err := f.issuer(t, "es-1").Issue(&token.Claims{})
	require.NoError(t, err)
	esParts := strings.Split(esSigned, ".")

	cases := []struct {
		name  string
		v     *token.Verifier
		token string
		want  error
	}{
		{"alg none", all, forge(`{"alg":"none","kid":"hs-1","typ":"at+jwt"}`, good, func([]byte) []byte { return nil }), token.ErrAlgorithm},
		{"alg None", all, forge(`{"alg":"None","kid":"hs-1","typ":"at+jwt"}`, good, func([]byte) []byte { return nil }), token.ErrAlgorithm},
		{"alg NONE", all, forge(`{"alg":"NONE","kid":"hs-1","typ":"at+jwt"}`, good, func([]byte) []byte { return nil }), token.ErrAlgorithm},
		{"alg missing", all, forge(`{"kid":"hs-1","typ":"at+jwt"}`, good, sign), token.ErrAlgorithm},
		{"alg not on the allow-list", edOnly, forge(hsHeader, good, sign), token.ErrAlgorithm},
		{"alg hs256 lowercase", all, forge(`{"alg":"hs256","kid":"hs-1","typ":"at+jwt"}`, good, sign), token.ErrAlgorithm},
		{"HS256 signed with the EdDSA public key", all, forge(`{"alg":"HS256","kid":"ed-1","typ":"at+jwt"}`, good, hs256(pubJWKS)), token.ErrAlgorithm},
		{"HS256 signed with the raw Ed25519 public key", all, forge(`{"alg":"HS256","kid":"ed-1","typ":"at+jwt"}`, good, hs256(edPubBytes(t, f))), token.ErrAlgorithm},
		{"ES256 with r = s = 0", all, esParts[0] + "." + esParts[1] + "." + enc.EncodeToString(make([]byte, 64)), token.ErrSignature},
		{"ES256 with a short signature", all, esParts[0] + "." + esParts[1] + "." + enc.EncodeToString(make([]byte, 63)), token.ErrSignature},
		{"unknown kid", all, forge(`{"alg":"HS256","kid":"hs-9","typ":"at+jwt"}`, good, sign), token.ErrUnknownKey},
		{"path kid", all, forge(`{"alg":"HS256","kid":"../../dev/null","typ":"at+jwt"}`, good, hs256(make([]byte, 32))), token.ErrUnknownKey},
		{"kid with quotes", all, forge(`{"alg":"HS256","kid":"hs-1\" OR \"1\"=\"1","typ":"at+jwt"}`, good, sign), token.ErrUnknownKey},
		{"no kid", all, forge(`{"alg":"HS256","typ":"at+jwt"}`, good, sign), token.ErrUnknownKey},
		{"jku", all, forge(`{"alg":"HS256","kid":"hs-1","typ":"at+jwt","jku":"https://evil/jwks"}`, good, sign), token.ErrHeader},
		{"x5u", all, forge(`{"alg":"HS256","kid":"hs-1","typ":"at+jwt","x5u":"https://evil/cert"}`, good, sign), token.ErrHeader},
		{"jwk", all, forge(`{"alg":"HS256","kid":"hs-1","typ":"at+jwt","jwk":{"kty":"oct","k":"AAAA"}}`, good, sign), token.ErrHeader},
		{"x5c", all, forge(`{"alg":"HS256","kid":"hs-1","typ":"at+jwt","x5c":["MIIB"]}`, good, sign), token.ErrHeader},
		{"unknown crit", all, forge(`{"alg":"HS256","kid":"hs-1","typ":"at+jwt","crit":["exp"],"exp":1}`, good, sign), token.ErrHeader},
		{"duplicate alg in header", all, forge(`{"alg":"HS256","alg":"none","kid":"hs-1","typ":"at+jwt"}`, good, sign), token.ErrMalformed},
		{"expired", all, forge(hsHeader, exp(-time.Minute), sign), token.ErrExpired},
		{"expired with a bad signature", all, forge(hsHeader, exp(-time.Minute), hs256(make([]byte, 32))), token.ErrSignature},
		{"nbf in the future", all, forge(hsHeader, fmt.Sprintf(`{"iss":"https://id.example","aud":"api","exp":%d,"nbf":%d}`, now.Add(time.Hour).Unix(), now.Add(time.Minute).Unix()), sign), token.ErrNotYetValid},
		{"iat in the future", all, forge(hsHeader, fmt.Sprintf(`{"iss":"https://id.example","aud":"api","exp":%d,"iat":%d}`, now.Add(time.Hour).Unix(), now.Add(time.Minute).Unix()), sign), token.ErrNotYetValid},
		{"missing exp", all, forge(hsHeader, `{"iss":"https://id.example","aud":"api"}`, sign), token.ErrMissingClaim},
		{"missing iss", all, forge(hsHeader, fmt.Sprintf(`{"aud":"api","exp":%d}`, now.Add(time.Hour).Unix()), sign), token.ErrMissingClaim},
		{"missing aud", all, forge(hsHeader, fmt.Sprintf(`{"iss":"https://id.example","exp":%d}`, now.Add(time.Hour).Unix()), sign), token.ErrMissingClaim},
		{"wrong aud", all, forge(hsHeader, strings.Replace(good, `"aud":"api"`, `"aud":["web","admin"]`, 1), sign), token.ErrAudience},
		{"wrong iss", all, forge(hsHeader, strings.Replace(good, "id.example", "id.evil", 1), sign), token.ErrIssuer},
		{"wrong typ", all, forge(`{"alg":"HS256","kid":"hs-1","typ":"JWT"}`, good, sign), token.ErrType},
		{"missing typ", all, forge(`{"alg":"HS256","kid":"hs-1"}`, good, sign), token.ErrType},
		{"duplicate sub", all, forge(hsHeader, strings.Replace(good, `"sub":"user_1"`, `"sub":"user_1","sub":"admin"`, 1), sign), token.ErrMalformed},
		{"duplicate sub in another case", all, forge(hsHeader, strings.Replace(good, `"sub":"user_1"`, `"sub":"user_1","SUB":"admin"`, 1), sign), token.ErrMalformed},
		{"duplicate sub behind an escape", all, forge(hsHeader, strings.Replace(good, `"sub":"user_1"`, `"sub":"user_1","s\u0075b":"admin"`, 1), sign), token.ErrMalformed},
		{"payload not an object", all, forge(hsHeader, `["iss"]`, sign), token.ErrMalformed},
		{"trailing data after payload", all, forge(hsHeader, good+`{}`, sign), token.ErrMalformed},
		{"aud of the wrong type", all, forge(hsHeader, strings.Replace(good, `"aud":"api"`, `"aud":7`, 1), sign), token.ErrMalformed},
		{"exp as a string", all, forge(hsHeader, strings.Replace(good, `"exp":`, `"exp":"1"`+`,"x":`, 1), sign), token.ErrMalformed},
		{"illegal base64", all, strings.Replace(forge(hsHeader, good, sign), "e", "+", 1), token.ErrMalformed},
		{"base64 padding", all, func() string {
			p := strings.Split(forge(hsHeader, good, sign), ".")
			return p[0] + "=." + p[1] + "." + p[2]
		}(), token.ErrMalformed},
		{"three dots", all, forge(hsHeader, good, sign) + ".", token.ErrMalformed},
		{"one dot", all, "abc.def", token.ErrMalformed},
		{"empty", all, "", token.ErrMalformed},
		{"1 MiB of dots", all, hugeDots, token.ErrMalformed},
		{"over 8 KiB", all, forge(hsHeader, strings.Replace(good, `"sub":"user_1"`, `"sub":"`+strings.Repeat("a", 9000)+`"`, 1), sign), token.ErrMalformed},
		{"header not JSON", all, enc.EncodeToString([]byte("alg=HS256")) + "." + enc.EncodeToString([]byte(good)) + ".AAAA", token.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.v.Verify(ctx, tc.token)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, auth.ErrInvalidCredential, "every rejection is an invalid credential")
		})
	}

	t.Run("the valid token itself passes", func(t *testing.T) {
		_, err := all.Verify(ctx, forge(hsHeader, good, sign))
		require.NoError(t, err)
	})
	t.Run("1 MiB of dots is refused in O(1) allocations", func(t *testing.T) {
		allocs := testing.AllocsPerRun(10, func() { _, _ = all.Verify(ctx, hugeDots) })
		assert.LessOrEqual(t, allocs, 1.0)
	})
}

func edPubBytes(t *testing.T, f fixture) []byte {
	t.Helper()
	data, err := token.MarshalJWKS([]*token.Key{f.ed})
	require.NoError(t, err)
	keys, err := token.ParseJWKS(data)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	var x struct {
		Keys []struct{ X string } `json:"keys"`
	}
	require.NoError(t, jsonUnmarshal(data, &x))
	raw, err := enc.DecodeString(x.Keys[0].X)
	require.NoError(t, err)
	return raw
}

func TestVerify_Leeway(t *testing.T) {
	f := newFixture(t)
	hsHeader := `{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}`
	expired10s := fmt.Sprintf(`{"iss":"https://id.example","aud":"api","exp":%d}`, now.Add(-10*time.Second).Unix())
	tok := forge(hsHeader, expired10s, hs256(secr))
	_, err := f.verifier(t, nil).Verify(ctx, tok)
	assert.NoError(t, err, "within the default 30s leeway")
	_, err = f.verifier(t, func(c *token.VerifierConfig) { c.Leeway = 5 * time.Second }).Verify(ctx, tok)
	assert.ErrorIs(t, err, token.ErrExpired)

	_, err = token.NewVerifier(token.VerifierConfig{Keys: f.ring, Issuer: "i", Audience: "a", Leeway: 6 * time.Minute})
	assert.ErrorIs(t, err, token.ErrInvalidConfig, "leeway is capped at 5 minutes")
}

func TestVerify_SkipsAreExplicit(t *testing.T) {
	f := newFixture(t)
	cases := map[string]token.VerifierConfig{
		"no keys":     {Issuer: "i", Audience: "a"},
		"no issuer":   {Keys: f.ring, Audience: "a"},
		"no audience": {Keys: f.ring, Issuer: "i"},
		"bad alg":     {Keys: f.ring, Issuer: "i", Audience: "a", Algorithms: []token.Algorithm{"none"}},
	}
	for name, cfg := range cases {
		_, err := token.NewVerifier(cfg)
		assert.ErrorIs(t, err, token.ErrInvalidConfig, name)
	}
	v := f.verifier(t, func(c *token.VerifierConfig) {
		c.SkipIssuer, c.SkipAudience, c.SkipExpiry, c.SkipType = true, true, true, true
		c.Issuer, c.Audience = "", ""
	})
	_, err := v.Verify(ctx, forge(`{"alg":"HS256","kid":"hs-1"}`, `{"sub":"x"}`, hs256(secr)))
	assert.NoError(t, err)
}

func TestKeyRing_RotationWithoutDowntime(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	old, err := f.issuer(t, "ed-1").Issue(&token.Claims{Subject: "u"})
	require.NoError(t, err)

	next, err := token.GenerateEd25519("ed-2")
	require.NoError(t, err)
	require.NoError(t, f.ring.Add(next))
	require.NoError(t, f.ring.Promote("ed-2"))
	iss, err := token.NewIssuer(token.IssuerConfig{Keys: f.ring, Issuer: "https://id.example", Audience: []string{"api"}, Now: func() time.Time { return now }})
	require.NoError(t, err)
	fresh, err := iss.Issue(&token.Claims{Subject: "u"})
	require.NoError(t, err)

	_, err = v.Verify(ctx, old)
	assert.NoError(t, err, "tokens of the previous key still verify")
	_, err = v.Verify(ctx, fresh)
	assert.NoError(t, err)

	assert.Error(t, f.ring.Remove("ed-2"), "the primary key cannot be removed")
	require.NoError(t, f.ring.Remove("ed-1"))
	_, err = v.Verify(ctx, old)
	assert.ErrorIs(t, err, token.ErrUnknownKey)
	assert.Error(t, f.ring.Add(next), "a kid is used once")
}

// TestKeyRing_GenerateThenPromote follows the rotation the module's key
// rings share: a generated key is published and verifies before it signs
// anything; Promote makes it sign; Rotate does both.
func TestKeyRing_GenerateThenPromote(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	iss := f.issuer(t, "ed-1")
	before, err := iss.Issue(&token.Claims{Subject: "u"})
	require.NoError(t, err)

	for _, alg := range []token.Algorithm{token.EdDSA, token.ES256, token.HS256} {
		t.Run(string(alg), func(t *testing.T) {
			next, err := f.ring.Generate(alg)
			require.NoError(t, err)
			assert.Equal(t, alg, next.Algorithm())
			assert.True(t, next.CanSign())
			assert.Len(t, next.ID(), 16)
			assert.NotEqual(t, next.ID(), f.ring.Primary().ID(), "generating does not promote")
			assert.Contains(t, f.ring.Keys(), next, "published before it signs")

			require.NoError(t, f.ring.Promote(next.ID()))
			assert.Equal(t, next, f.ring.Primary())
			tok, err := iss.Issue(&token.Claims{Subject: "u"})
			require.NoError(t, err)
			assert.Equal(t, next.ID(), kidOf(t, tok), "the issuer signs with the new primary")
			_, err = v.Verify(ctx, tok)
			assert.NoError(t, err)
			_, err = v.Verify(ctx, before)
			assert.NoError(t, err, "the old primary still verifies")
		})
	}

	rotated, err := f.ring.Rotate(token.EdDSA)
	require.NoError(t, err)
	assert.Equal(t, rotated, f.ring.Primary())

	_, err = f.ring.Generate(token.RS256)
	assert.ErrorIs(t, err, token.ErrKey, "RS256 is verify-only")
	_, err = f.ring.Generate("none")
	assert.ErrorIs(t, err, token.ErrKey)
	assert.ErrorIs(t, f.ring.Promote("no-such-key"), token.ErrKey)
	assert.ErrorIs(t, f.ring.Add(nil), token.ErrKey)
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	hdr, err := enc.DecodeString(strings.SplitN(tok, ".", 2)[0])
	require.NoError(t, err)
	var h struct {
		Kid string `json:"kid"`
	}
	require.NoError(t, jsonUnmarshal(hdr, &h))
	return h.Kid
}

func TestKeys_RejectBadMaterial(t *testing.T) {
	_, err := token.NewHS256("k", []byte("short"))
	assert.ErrorIs(t, err, token.ErrKey)
	_, err = token.NewEd25519("k", make([]byte, 10))
	assert.ErrorIs(t, err, token.ErrKey)
	_, err = token.NewES256("k", &ecdsa.PrivateKey{})
	assert.ErrorIs(t, err, token.ErrKey)
	_, err = token.NewHS256(`k"`, secr)
	assert.ErrorIs(t, err, token.ErrKey, "key ids that need escaping are refused")
	hs, _ := token.NewHS256("k", secr)
	_, err = hs.Public()
	assert.ErrorIs(t, err, token.ErrKey)
	pub, _ := token.GenerateEd25519("e")
	p, _ := pub.Public()
	ring, _ := token.NewKeyRing(nil, p)
	assert.ErrorIs(t, ring.Promote("e"), token.ErrKey, "a public key cannot sign")
	_, err = token.NewIssuer(token.IssuerConfig{Keys: ring, Issuer: "i", Audience: []string{"a"}})
	assert.ErrorIs(t, err, token.ErrInvalidConfig)
}

func TestVerify_HS256AllocatesAtMostTen(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	tok, err := f.issuer(t, "hs-1").Issue(&token.Claims{Subject: "user_1"})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := v.Verify(ctx, tok); err != nil {
			panic(err)
		}
	})
	assert.LessOrEqual(t, allocs, 10.0)
}

func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	v := fx.verifier(f, nil)
	tok, _ := fx.issuer(f, "hs-1").Issue(&appClaims{Roles: []string{"a"}})
	f.Add(tok)
	f.Add(forge(`{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}`, `{"a":[{"b":{"c":[1,2.5e3,-0]}}],"s":"\u00e9\n"}`, hs256(secr)))
	f.Add("..")
	f.Add(strings.Repeat(".", 100))
	f.Add(tok[:len(tok)-8] + "\r\n" + tok[len(tok)-8:])
	f.Add(forge(`{"alg":"HS\u0032\u00356","kid":"hs\u002d1","typ":"application\/at+jwt"}`, validPayload(), hs256(secr)))
	f.Add(forge(`{"alg":"HS256","kid":"hs-1\ud800","typ":"at+jwt"}`, validPayload(), hs256(secr)))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := v.Verify(ctx, s)
		if err == nil {
			if c == nil || c.ExpiresAt == 0 {
				t.Fatal("accepted without claims")
			}
			return
		}
		if !errors.Is(err, auth.ErrInvalidCredential) {
			t.Fatalf("error %v is not an invalid credential", err)
		}
		if _, err := token.VerifyAs[appClaims](ctx, v, s); err == nil {
			t.Fatal("typed verification accepted what plain verification refused")
		}
	})
}

// FuzzPayload signs arbitrary payloads, so the fuzzer reaches the claims
// decoder behind a valid signature.
func FuzzPayload(f *testing.F) {
	fx := newFixture(f)
	v := fx.verifier(f, func(c *token.VerifierConfig) { c.SkipExpiry, c.SkipIssuer, c.SkipAudience = true, true, true })
	f.Add([]byte(`{"sub":"a","aud":["x","y"],"exp":1.5}`))
	f.Add([]byte(`{"sub":"a","Sub":"b"}`))
	f.Add([]byte(`{"nbf":9223372036854775807,"iat":-1,"exp":253402300799.5}`))
	f.Add([]byte(`{"exp":1e400,"nbf":4.611686018427388e18}`))
	f.Add([]byte(`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		tok := forge(`{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}`, string(payload), hs256(secr))
		_, err1 := v.Verify(ctx, tok)
		_, err2 := token.VerifyAs[appClaims](ctx, v, tok)
		if (err1 == nil) != (err2 == nil) && err1 == nil {
			// The typed path may refuse more (a field of the wrong type),
			// never less.
			return
		}
		if err1 != nil && err2 == nil {
			t.Fatalf("typed path accepted %q, registered path refused: %v", payload, err1)
		}
	})
}

// TestKeyRing_MissingKeyIsAnError: Promote and Remove of an id the ring
// does not hold fail with ErrKey, as every Bedrock key ring's do; a
// mistyped kid in a rotation script must not pass silently.
func TestKeyRing_MissingKeyIsAnError(t *testing.T) {
	f := newFixture(t)
	for name, op := range map[string]func(string) error{"promote": f.ring.Promote, "remove": f.ring.Remove} {
		t.Run(name, func(t *testing.T) {
			err := op("no-such-kid")
			assert.ErrorIs(t, err, token.ErrKey)
			assert.NotErrorIs(t, err, auth.ErrInvalidCredential, "a ring operation is not a credential check")
		})
	}
}

// TestKeyRing_KeysInTheOrderAdded: Keys lists oldest first, as crypto's
// rings do, so the key a rotation script removes next is the first.
func TestKeyRing_KeysInTheOrderAdded(t *testing.T) {
	var keys []*token.Key
	for _, id := range []string{"k-3", "k-1", "k-2"} {
		k, err := token.GenerateEd25519(id)
		require.NoError(t, err)
		keys = append(keys, k)
	}
	ring, err := token.NewKeyRing(keys[0], keys[1:]...)
	require.NoError(t, err)
	ids := func() []string {
		var out []string
		for _, k := range ring.Keys() {
			out = append(out, k.ID())
		}
		return out
	}
	assert.Equal(t, []string{"k-3", "k-1", "k-2"}, ids())
	require.NoError(t, ring.Remove("k-1"))
	assert.Equal(t, []string{"k-3", "k-2"}, ids())
	next, err := ring.Generate(token.EdDSA)
	require.NoError(t, err)
	assert.Equal(t, []string{"k-3", "k-2", next.ID()}, ids())
}
