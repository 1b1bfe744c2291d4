package conformance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/token"
	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api"
)

// rawKey is one algorithm's key material in standard-library types, from
// which both Bedrock's keys and the anchors' keys are made.
type rawKey struct {
	alg     token.Algorithm
	private any // ed25519.PrivateKey, *ecdsa.PrivateKey, []byte, *rsa.PrivateKey
	public  any // ed25519.PublicKey, *ecdsa.PublicKey, []byte, *rsa.PublicKey
	// bedrockSigns is false for RS256, which Bedrock verifies but never
	// issues.
	bedrockSigns bool
}

var (
	rawKeysOnce sync.Once
	rawKeysVal  []rawKey
)

// rawKeys returns one key per algorithm Bedrock supports, generated once:
// RSA key generation is the slowest step of the module.
func rawKeys(t *testing.T) []rawKey {
	t.Helper()
	rawKeysOnce.Do(func() {
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		rs, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rawKeysVal = []rawKey{
			{token.EdDSA, ed, ed.Public(), true},
			{token.ES256, ec, &ec.PublicKey, true},
			{token.HS256, secret, secret, true},
			{token.RS256, rs, &rs.PublicKey, false},
		}
	})
	return rawKeysVal
}

// bedrockKey returns Bedrock's key for k under kid: the signing key when
// private is set (never for RS256), else the verification key.
func bedrockKey(t *testing.T, k rawKey, kid string, private bool) *token.Key {
	t.Helper()
	var key *token.Key
	var err error
	switch k.alg {
	case token.EdDSA:
		if private {
			key, err = token.NewEd25519(kid, k.private.(ed25519.PrivateKey))
		} else {
			key, err = token.NewEd25519Public(kid, k.public.(ed25519.PublicKey))
		}
	case token.ES256:
		if private {
			key, err = token.NewES256(kid, k.private.(*ecdsa.PrivateKey))
		} else {
			key, err = token.NewES256Public(kid, k.public.(*ecdsa.PublicKey))
		}
	case token.HS256:
		key, err = token.NewHS256(kid, k.private.([]byte))
	case token.RS256:
		key, err = token.NewRS256Public(kid, k.public.(*rsa.PublicKey))
	}
	require.NoError(t, err, "Bedrock key %s %q", k.alg, kid)
	return key
}

func bedrockVerifier(t *testing.T, keys ...*token.Key) *token.Verifier {
	t.Helper()
	ring, err := token.NewKeyRing(nil, keys...)
	require.NoError(t, err)
	return bedrockVerifierFor(t, ring)
}

func bedrockVerifierFor(t *testing.T, src token.KeySource) *token.Verifier {
	t.Helper()
	v, err := token.NewVerifier(token.VerifierConfig{
		Keys: src, Issuer: testIssuer, Audience: testAudience,
		Algorithms: []token.Algorithm{token.EdDSA, token.ES256, token.HS256, token.RS256},
	})
	require.NoError(t, err)
	return v
}

// testClaims are the claims an anchor signs; aud is a string or an array.
func testClaims(aud any) map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": testIssuer, "sub": "user-1", "aud": aud,
		"iat": now, "exp": now + 600, "jti": "id-1",
	}
}

// anchor is one independent JOSE implementation, driven as its users drive
// it. sign returns a compact JWS; verify checks a token's signature, its
// iss, aud (must contain testAudience) and exp, and returns the kid and
// typ as the anchor read them.
type anchor struct {
	name   string
	sign   func(k rawKey, kid, typ string, claims map[string]any) (string, error)
	verify func(tok string, k rawKey) (kid, typ, sub string, err error)
}

func anchors() []anchor {
	return []anchor{
		{"golang-jwt", golangJWTSign, golangJWTVerify},
		{"go-jose", goJoseSign, goJoseVerify},
		{"jwx", jwxSign, jwxVerify},
	}
}

func golangJWTMethod(alg token.Algorithm) gojwt.SigningMethod {
	switch alg {
	case token.EdDSA:
		return gojwt.SigningMethodEdDSA
	case token.ES256:
		return gojwt.SigningMethodES256
	case token.HS256:
		return gojwt.SigningMethodHS256
	}
	return gojwt.SigningMethodRS256
}

func golangJWTSign(k rawKey, kid, typ string, claims map[string]any) (string, error) {
	tok := gojwt.NewWithClaims(golangJWTMethod(k.alg), gojwt.MapClaims(claims))
	tok.Header["kid"] = kid
	tok.Header["typ"] = typ
	return tok.SignedString(k.private)
}

func golangJWTVerify(s string, k rawKey) (kid, typ, sub string, err error) {
	tok, err := gojwt.Parse(s, func(t *gojwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		typ, _ = t.Header["typ"].(string)
		return k.public, nil
	}, gojwt.WithValidMethods([]string{string(k.alg)}), gojwt.WithIssuer(testIssuer),
		gojwt.WithAudience(testAudience), gojwt.WithExpirationRequired())
	if err != nil {
		return "", "", "", err
	}
	sub, err = tok.Claims.GetSubject()
	return kid, typ, sub, err
}

func goJoseSign(k rawKey, kid, typ string, claims map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	if k.alg == token.HS256 {
		// go-jose writes the kid of a JSONWebKey only for asymmetric keys.
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.alg),
		Key:       jose.JSONWebKey{Key: k.private, KeyID: kid},
	}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func goJoseVerify(s string, k rawKey) (kid, typ, sub string, err error) {
	tok, err := josejwt.ParseSigned(s, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.alg)})
	if err != nil {
		return "", "", "", err
	}
	var c josejwt.Claims
	if err := tok.Claims(k.public, &c); err != nil {
		return "", "", "", err
	}
	if c.Expiry == nil {
		return "", "", "", errors.New("go-jose: no exp")
	}
	if err := c.Validate(josejwt.Expected{Issuer: testIssuer, AnyAudience: josejwt.Audience{testAudience}}); err != nil {
		return "", "", "", err
	}
	h := tok.Headers[0]
	typ, _ = h.ExtraHeaders[jose.HeaderType].(string)
	return h.KeyID, typ, c.Subject, nil
}

func jwxAlg(alg token.Algorithm) jwa.SignatureAlgorithm {
	switch alg {
	case token.EdDSA:
		return jwa.EdDSA()
	case token.ES256:
		return jwa.ES256()
	case token.HS256:
		return jwa.HS256()
	}
	return jwa.RS256()
}

func jwxSign(k rawKey, kid, typ string, claims map[string]any) (string, error) {
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
		return "", err
	}
	if err := hdr.Set(jws.TypeKey, typ); err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	out, err := jws.Sign(payload, jws.WithKey(jwxAlg(k.alg), k.private, jws.WithProtectedHeaders(hdr)))
	return string(out), err
}

func jwxVerify(s string, k rawKey) (kid, typ, sub string, err error) {
	tok, err := jwxjwt.Parse([]byte(s), jwxjwt.WithKey(jwxAlg(k.alg), k.public),
		jwxjwt.WithIssuer(testIssuer), jwxjwt.WithAudience(testAudience), jwxjwt.WithRequiredClaim("exp"))
	if err != nil {
		return "", "", "", err
	}
	msg, err := jws.Parse([]byte(s))
	if err != nil {
		return "", "", "", err
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	kid, _ = h.KeyID()
	typ, _ = h.Type()
	sub, _ = tok.Subject()
	return kid, typ, sub, nil
}

// TestJOSE_AnchorSignsBedrockVerifies signs with each anchor, every
// algorithm, both shapes of aud, both spellings of the access-token typ, and
// a kid that the anchors' JSON encoders escape (golang-jwt and go-jose write
// "k\u003c\u0026\u003e1"): Bedrock must accept every one.
func TestJOSE_AnchorSignsBedrockVerifies(t *testing.T) {
	variants := []struct {
		name, kid, typ string
		aud            any
	}{
		{"aud string", "k1", "at+jwt", testAudience},
		{"aud array", "k1", "at+jwt", []string{"other", testAudience}},
		{"typ with application/ prefix", "k1", "application/at+jwt", testAudience},
		{"kid with <&> (item 21.1)", "k<&>1", "at+jwt", testAudience},
		{"kid with slash", "keys/2024", "at+jwt", testAudience},
	}
	for _, a := range anchors() {
		for _, k := range rawKeys(t) {
			for _, v := range variants {
				t.Run(a.name+"/"+string(k.alg)+"/"+v.name, func(t *testing.T) {
					tok, err := a.sign(k, v.kid, v.typ, testClaims(v.aud))
					require.NoError(t, err)
					// The anchor accepts its own token, so a refusal below is
					// Bedrock's.
					_, _, _, err = a.verify(tok, k)
					require.NoError(t, err, "%s refuses its own token", a.name)

					claims, err := bedrockVerifier(t, bedrockKey(t, k, v.kid, false)).Verify(context.Background(), tok)
					require.NoError(t, err, "header %s", headerOf(t, tok))
					assert.Equal(t, "user-1", claims.Subject)
					assert.True(t, claims.Audience.Contains(testAudience))
				})
			}
		}
	}
}

// TestJOSE_ExpectedDifferences lists where Bedrock refuses what an anchor
// accepts, on purpose.
func TestJOSE_ExpectedDifferences(t *testing.T) {
	k := rawKeys(t)[0]
	cases := []struct {
		name   string
		typ    string
		claims map[string]any
		want   error
		reason string
	}{
		{"typ JWT", "JWT", testClaims(testAudience), token.ErrType,
			"RFC 8725 §3.11 and RFC 9068: an access token says at+jwt, so an ID token or any other JWT signed by the same key cannot be replayed as one; the anchors do not check typ unless asked"},
		{"no exp", "at+jwt", withoutClaim(testClaims(testAudience), "exp"), token.ErrMissingClaim,
			"a token that never expires is refused unless SkipExpiry says otherwise (the anchors accept it by default)"},
	}
	for _, a := range anchors() {
		for _, c := range cases {
			t.Run(a.name+"/"+c.name, func(t *testing.T) {
				tok, err := a.sign(k, "k1", c.typ, c.claims)
				require.NoError(t, err)
				_, err = bedrockVerifier(t, bedrockKey(t, k, "k1", false)).Verify(context.Background(), tok)
				assert.ErrorIs(t, err, c.want, c.reason)
			})
		}
	}
}

func withoutClaim(c map[string]any, name string) map[string]any {
	delete(c, name)
	return c
}

// TestJOSE_BedrockSignsAnchorsVerify issues with Bedrock for every algorithm
// it signs with, with one and several audiences and kids holding characters
// JSON encoders like to escape, and has every anchor verify the token and
// read back the same kid and typ.
func TestJOSE_BedrockSignsAnchorsVerify(t *testing.T) {
	auds := map[string][]string{"one audience": {testAudience}, "two audiences": {testAudience, "other"}}
	kids := []string{"k1", "k<&>1", "keys/2024", "2024-01_a.b~c"}
	for _, k := range rawKeys(t) {
		if !k.bedrockSigns {
			continue
		}
		for audName, aud := range auds {
			for _, kid := range kids {
				issuer, err := newIssuer(bedrockKey(t, k, kid, true), aud)
				require.NoError(t, err)
				tok, err := issuer.Issue(&token.Claims{Subject: "user-1"})
				require.NoError(t, err)
				for _, a := range anchors() {
					t.Run(fmt.Sprintf("%s/%s/%s/kid %q", a.name, k.alg, audName, kid), func(t *testing.T) {
						gotKid, gotTyp, sub, err := a.verify(tok, k)
						require.NoError(t, err, "header %s", headerOf(t, tok))
						assert.Equal(t, kid, gotKid)
						assert.Equal(t, token.AccessTokenType, gotTyp)
						assert.Equal(t, "user-1", sub)
					})
				}
			}
		}
	}
}

func newIssuer(key *token.Key, aud []string) (*token.Issuer, error) {
	ring, err := token.NewKeyRing(key)
	if err != nil {
		return nil, err
	}
	return token.NewIssuer(token.IssuerConfig{Keys: ring, Issuer: testIssuer, Audience: aud})
}

// TestJOSE_EscapedHeaderStrings builds headers by hand with JSON escapes
// that other encoders write (RFC 8259 §7: an escaped and an unescaped
// string are the same string), signs them with the standard library, and
// requires every anchor and Bedrock to accept them with the decoded value.
// Item 21.1.
func TestJOSE_EscapedHeaderStrings(t *testing.T) {
	k := rawKeys(t)[0] // EdDSA
	cases := []struct {
		name, header, kid string
	}{
		{"kid escaped like encoding/json", `{"alg":"EdDSA","kid":"k\u003c\u0026\u003e1","typ":"at+jwt"}`, "k<&>1"},
		{"kid with escaped slash (PHP)", `{"alg":"EdDSA","kid":"keys\/2024","typ":"at+jwt"}`, "keys/2024"},
		{"typ with escaped slash", `{"alg":"EdDSA","kid":"k1","typ":"application\/at+jwt"}`, "k1"},
		{"kid letter escaped", `{"alg":"EdDSA","kid":"\u006b1","typ":"at+jwt"}`, "k1"},
		{"alg escaped", `{"alg":"Ed\u0044SA","kid":"k1","typ":"at+jwt"}`, "k1"},
	}
	for _, c := range cases {
		tok := signRaw(t, k, c.header, testClaims(testAudience))
		for _, a := range anchors() {
			t.Run(c.name+"/"+a.name, func(t *testing.T) {
				kid, _, _, err := a.verify(tok, k)
				require.NoError(t, err)
				assert.Equal(t, c.kid, kid)
			})
		}
		t.Run(c.name+"/bedrock", func(t *testing.T) {
			_, err := bedrockVerifier(t, bedrockKey(t, k, c.kid, false)).Verify(context.Background(), tok)
			assert.NoError(t, err, "header %s", c.header)
		})
	}
}

// signRaw signs header and claims exactly as given, with the standard
// library (RFC 7515 §5.1).
func signRaw(t *testing.T, k rawKey, header string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload)
	var sig []byte
	switch k.alg {
	case token.EdDSA:
		sig = ed25519.Sign(k.private.(ed25519.PrivateKey), []byte(input))
	case token.HS256:
		m := hmac.New(sha256.New, k.private.([]byte))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	default:
		t.Fatalf("signRaw: %s not needed", k.alg)
	}
	return input + "." + enc.EncodeToString(sig)
}

func headerOf(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "(undecodable)"
	}
	return string(b)
}

// TestJWKS_BedrockServesAnchorsRead publishes a ring's public keys with
// JWKSHandler and has each anchor fetch the set, find each key by kid and
// verify a token Bedrock signed with it. golang-jwt has no JWK support: its
// column reads the set with a decoder written from RFC 7518 §6 on the
// standard library, then verifies with golang-jwt.
func TestJWKS_BedrockServesAnchorsRead(t *testing.T) {
	var signing []*token.Key
	var raws []rawKey
	for _, k := range rawKeys(t) {
		if k.bedrockSigns && k.alg != token.HS256 {
			signing = append(signing, bedrockKey(t, k, "key-"+string(k.alg), true))
			raws = append(raws, k)
		}
	}
	rs := rawKeys(t)[3]
	ring, err := token.NewKeyRing(signing[0], append(signing[1:], bedrockKey(t, rs, "key-RS256", false))...)
	require.NoError(t, err)
	srv := httptest.NewServer(token.JWKSHandler(ring, 0))
	defer srv.Close()
	body := httpGet(t, srv.URL)

	readers := []struct {
		name string
		key  func(t *testing.T, set []byte, kid string) any // the public key, or nil
	}{
		{"go-jose", func(t *testing.T, set []byte, kid string) any {
			var s jose.JSONWebKeySet
			require.NoError(t, json.Unmarshal(set, &s))
			ks := s.Key(kid)
			if len(ks) != 1 {
				return nil
			}
			return ks[0].Key
		}},
		{"jwx", func(t *testing.T, set []byte, kid string) any {
			s, err := jwk.Parse(set)
			require.NoError(t, err)
			k, ok := s.LookupKeyID(kid)
			if !ok {
				return nil
			}
			var raw any
			require.NoError(t, jwk.Export(k, &raw))
			return raw
		}},
		{"golang-jwt (RFC 7518 decoder)", func(t *testing.T, set []byte, kid string) any {
			return stdlibJWK(t, set, kid)
		}},
	}
	for _, r := range readers {
		for i, k := range raws {
			kid := signing[i].ID()
			t.Run(r.name+"/"+kid, func(t *testing.T) {
				pub := r.key(t, body, kid)
				require.NotNil(t, pub, "kid %q not found in %s", kid, body)
				ring, err := token.NewKeyRing(signing[i])
				require.NoError(t, err)
				iss, err := token.NewIssuer(token.IssuerConfig{Keys: ring, Issuer: testIssuer, Audience: []string{testAudience}})
				require.NoError(t, err)
				tok, err := iss.Issue(&token.Claims{Subject: "user-1"})
				require.NoError(t, err)
				_, _, _, err = golangJWTVerify(tok, rawKey{alg: k.alg, public: pub})
				require.NoError(t, err)
			})
		}
		t.Run(r.name+"/key-RS256", func(t *testing.T) {
			pub, ok := r.key(t, body, "key-RS256").(*rsa.PublicKey)
			require.True(t, ok, "RS256 key not read back")
			assert.Equal(t, 0, pub.N.Cmp(rs.public.(*rsa.PublicKey).N))
		})
	}
	t.Run("HS256 secrets are never published", func(t *testing.T) {
		hs := bedrockKey(t, rawKeys(t)[2], "key-HS256", true)
		set, err := token.MarshalJWKS([]*token.Key{hs, signing[0]})
		require.NoError(t, err)
		assert.NotContains(t, string(set), "key-HS256")
		assert.NotContains(t, string(set), `"k"`)
	})
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// stdlibJWK finds kid in a JWK Set and decodes it by RFC 7518 §6 with the
// standard library: OKP Ed25519 (RFC 8037 §2), EC P-256, RSA.
func stdlibJWK(t *testing.T, set []byte, kid string) any {
	t.Helper()
	var s struct {
		Keys []struct {
			Kty, Kid, Crv, X, Y, N, E string
		} `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(set, &s))
	dec := func(v string) []byte {
		b, err := base64.RawURLEncoding.Strict().DecodeString(v)
		require.NoError(t, err)
		return b
	}
	for _, k := range s.Keys {
		if k.Kid != kid {
			continue
		}
		switch {
		case k.Kty == "OKP" && k.Crv == "Ed25519":
			return ed25519.PublicKey(dec(k.X))
		case k.Kty == "EC" && k.Crv == "P-256":
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, dec(k.X)...), dec(k.Y)...))
			require.NoError(t, err)
			return pub
		case k.Kty == "RSA":
			return &rsa.PublicKey{N: new(big.Int).SetBytes(dec(k.N)), E: int(new(big.Int).SetBytes(dec(k.E)).Int64())}
		}
	}
	return nil
}

// anchorSet is a JWK Set written by an anchor, holding the public halves of
// keys under their kids.
type setKey struct {
	kid    string
	public any
	alg    string
}

func goJoseSet(t *testing.T, keys []setKey) []byte {
	t.Helper()
	var s jose.JSONWebKeySet
	for _, k := range keys {
		s.Keys = append(s.Keys, jose.JSONWebKey{Key: k.public, KeyID: k.kid, Algorithm: k.alg, Use: "sig"})
	}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return b
}

func jwxSet(t *testing.T, keys []setKey) []byte {
	t.Helper()
	s := jwk.NewSet()
	for _, k := range keys {
		key, err := jwk.Import(k.public)
		require.NoError(t, err)
		require.NoError(t, key.Set(jwk.KeyIDKey, k.kid))
		require.NoError(t, key.Set(jwk.KeyUsageKey, "sig"))
		require.NoError(t, key.Set(jwk.AlgorithmKey, k.alg))
		require.NoError(t, s.AddKey(key))
	}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return b
}

// TestJWKS_AnchorSetsBedrockReads has go-jose and jwx publish sets that mix
// usable keys with keys Bedrock cannot use (RFC 7517 §5: skip those, keep
// the rest). Bedrock's ParseJWKS and a RemoteKeySet over the served set must
// keep every usable key and verify tokens the anchor signed with it.
// golang-jwt writes no JWK Sets. The unusable keys are item 21.2.
func TestJWKS_AnchorSetsBedrockReads(t *testing.T) {
	var usable []setKey
	var raws []rawKey
	for _, k := range rawKeys(t) {
		if k.alg == token.HS256 {
			continue
		}
		usable = append(usable, setKey{kid: "key-" + string(k.alg), public: k.public, alg: string(k.alg)})
		raws = append(raws, k)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	_, otherEd, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	// jwx refuses to write an RSA key under 2048 bits, so only go-jose
	// writes that set.
	extra := []struct {
		name      string
		key       setKey
		jwxWrites bool
	}{
		{"none", setKey{}, true},
		{"RSA-1024 (item 21.2)", setKey{kid: "weak-rsa", public: &weak.PublicKey, alg: "RS256"}, false},
		{"kid with a space (item 21.2)", setKey{kid: "my key", public: otherEd.Public(), alg: "EdDSA"}, true},
		{"kid with non-ASCII (item 21.2)", setKey{kid: "clé-1", public: otherEd.Public(), alg: "EdDSA"}, true},
		{"129-byte kid (item 21.2)", setKey{kid: strings.Repeat("k", 129), public: otherEd.Public(), alg: "EdDSA"}, true},
	}
	writers := []struct {
		name  string
		write func(*testing.T, []setKey) []byte
	}{{"go-jose", goJoseSet}, {"jwx", jwxSet}}
	for _, w := range writers {
		for _, x := range extra {
			if w.name == "jwx" && !x.jwxWrites {
				continue
			}
			keys := append([]setKey(nil), usable...)
			if x.key.kid != "" {
				// The unusable key comes first, so a parser that gives up
				// at it loses every usable key.
				keys = append([]setKey{x.key}, keys...)
			}
			set := w.write(t, keys)
			t.Run(w.name+"/unusable "+x.name+"/ParseJWKS", func(t *testing.T) {
				got, err := token.ParseJWKS(set)
				ids := map[string]bool{}
				for _, k := range got {
					ids[k.ID()] = true
				}
				for _, u := range usable {
					assert.True(t, ids[u.kid], "usable key %q lost (err: %v)", u.kid, err)
				}
				assert.False(t, ids["weak-rsa"], "an RSA key under 2048 bits must never verify")
			})
			t.Run(w.name+"/unusable "+x.name+"/RemoteKeySet", func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
					rw.Header().Set("Content-Type", "application/json")
					_, _ = rw.Write(set)
				}))
				defer srv.Close()
				remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: srv.URL})
				require.NoError(t, err)
				defer remote.Close()
				v := bedrockVerifierFor(t, remote)
				for i, k := range raws {
					tok, err := goJoseSign(k, usable[i].kid, "at+jwt", testClaims(testAudience))
					require.NoError(t, err)
					_, err = v.Verify(context.Background(), tok)
					assert.NoError(t, err, "token under %q", usable[i].kid)
				}
			})
		}
	}
}

// TestThumbprint_RFC8037Vector checks crypto's key ids against RFC 8037
// Appendix A.3: the thumbprint of the key of A.1.
func TestThumbprint_RFC8037Vector(t *testing.T) {
	seed, err := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	require.NoError(t, err)
	key, err := bcrypto.NewSigningKey(seed)
	require.NoError(t, err)
	assert.Equal(t, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", base64.RawURLEncoding.EncodeToString(key.Public().Bytes()))
	assert.Equal(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", key.KeyID())
	assert.Equal(t, key.KeyID(), key.Public().KeyID())
}

// TestThumbprint_Anchors checks that the anchors compute the RFC's own
// vectors (RFC 7638 §3.1 for RSA, RFC 8037 A.3 for Ed25519), so that they
// can referee, then compares crypto's key ids with theirs on random keys.
func TestThumbprint_Anchors(t *testing.T) {
	const rfc7638N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	n, err := base64.RawURLEncoding.DecodeString(rfc7638N)
	require.NoError(t, err)
	rsaPub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	edPub, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	require.NoError(t, err)

	thumbprinters := map[string]func(t *testing.T, pub any) string{
		"go-jose": func(t *testing.T, pub any) string {
			b, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
			require.NoError(t, err)
			return base64.RawURLEncoding.EncodeToString(b)
		},
		"jwx": func(t *testing.T, pub any) string {
			k, err := jwk.Import(pub)
			require.NoError(t, err)
			b, err := k.Thumbprint(crypto.SHA256)
			require.NoError(t, err)
			return base64.RawURLEncoding.EncodeToString(b)
		},
	}
	for name, tp := range thumbprinters {
		t.Run(name+"/RFC 7638 §3.1", func(t *testing.T) {
			assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", tp(t, rsaPub))
		})
		t.Run(name+"/RFC 8037 A.3", func(t *testing.T) {
			assert.Equal(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", tp(t, ed25519.PublicKey(edPub)))
		})
		t.Run(name+"/random keys", func(t *testing.T) {
			for range 8 {
				key, err := bcrypto.GenerateSigningKey(nil)
				require.NoError(t, err)
				assert.Equal(t, tp(t, ed25519.PublicKey(key.Public().Bytes())), key.KeyID())
			}
		})
	}
}

// TestJWKS_EdgeSetDecisions checks what Bedrock decided for the sets RFC
// 7517 allows but a kid-keyed verifier cannot use as they are, with sets
// written by go-jose and tokens signed by go-jose:
//   - a key without a kid is skipped (and reported): the verifier chooses
//     keys by kid alone, so it could never be chosen;
//   - one kid on keys of different types (§4.5 allows it) keeps both, and a
//     token verifies with the key that matches its alg;
//   - an oct key is never used: its "k" is the secret itself, so a
//     published one lets anyone who read the set forge tokens.
func TestJWKS_EdgeSetDecisions(t *testing.T) {
	keys := rawKeys(t)
	ed, ec, secret := keys[0], keys[1], keys[2]
	set := goJoseSet(t, []setKey{
		{kid: "", public: ed.public, alg: "EdDSA"},
		{kid: "shared", public: ed.public, alg: "EdDSA"},
		{kid: "shared", public: ec.public, alg: "ES256"},
		{kid: "hmac", public: secret.public, alg: "HS256"},
	})
	var skipped []token.SkippedKey
	got, err := token.ParseJWKSFunc(set, func(s token.SkippedKey) { skipped = append(skipped, s) })
	require.NoError(t, err)
	assert.Len(t, got, 2, "both keys under the shared kid, nothing else")
	require.Len(t, skipped, 2, "the key without a kid and the oct key are reported")
	assert.Equal(t, 0, skipped[0].Index)
	assert.Equal(t, 3, skipped[1].Index)
	assert.ErrorIs(t, skipped[1].Err, token.ErrKey, "an oct key publishes its secret: refused as a broken key")

	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write(set)
	}))
	defer srv.Close()
	remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: srv.URL})
	require.NoError(t, err)
	defer remote.Close()
	v := bedrockVerifierFor(t, remote)
	for _, k := range []rawKey{ed, ec} {
		tok, err := goJoseSign(k, "shared", "at+jwt", testClaims(testAudience))
		require.NoError(t, err)
		_, err = v.Verify(t.Context(), tok)
		assert.NoError(t, err, "%s under the shared kid verifies with the key of its own type", k.alg)
	}
	forged, err := goJoseSign(secret, "hmac", "at+jwt", testClaims(testAudience))
	require.NoError(t, err)
	_, err = v.Verify(t.Context(), forged)
	assert.Error(t, err, "an HS256 token under a published oct key is refused")
}
