package benchmarks

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/auth/token"
)

var jwtSecret = []byte("0123456789abcdef0123456789abcdef")

type jwtFixture struct {
	edPub    ed25519.PublicKey
	edPriv   ed25519.PrivateKey
	ring     *token.KeyRing
	verifier *token.Verifier
}

func newJWTFixture(b *testing.B) jwtFixture {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	ed, err := token.NewEd25519("ed-1", priv)
	if err != nil {
		b.Fatal(err)
	}
	hs, _ := token.NewHS256("hs-1", jwtSecret)
	ring, _ := token.NewKeyRing(ed, hs)
	v, err := token.NewVerifier(token.VerifierConfig{
		Keys: ring, Issuer: "https://id.example", Audience: "api",
		Algorithms: []token.Algorithm{token.EdDSA, token.HS256},
	})
	if err != nil {
		b.Fatal(err)
	}
	return jwtFixture{edPub: pub, edPriv: priv, ring: ring, verifier: v}
}

func (f jwtFixture) issue(b *testing.B, kid string) string {
	if err := f.ring.Promote(kid); err != nil {
		b.Fatal(err)
	}
	iss, _ := token.NewIssuer(token.IssuerConfig{Keys: f.ring, Issuer: "https://id.example", Audience: []string{"api"}, TTL: time.Hour})
	tok, err := iss.Issue(&token.Claims{Subject: "user_1"})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// golangJWTParser is golang-jwt with its recommended validation: an
// algorithm allow-list, issuer, audience, required expiry and leeway.
func golangJWTParser(alg string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{alg}),
		jwt.WithIssuer("https://id.example"),
		jwt.WithAudience("api"),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
	)
}

func benchVerify(b *testing.B, kid, alg string, key any) {
	f := newJWTFixture(b)
	tok := f.issue(b, kid)
	if kid == "ed-1" {
		key = f.edPub
	}
	b.Run("bedrock", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			if _, err := f.verifier.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golangjwt", func(b *testing.B) {
		p := golangJWTParser(alg)
		keyFunc := func(*jwt.Token) (any, error) { return key, nil }
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.ParseWithClaims(tok, &jwt.RegisteredClaims{}, keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJWTVerifyHS256(b *testing.B) { benchVerify(b, "hs-1", "HS256", jwtSecret) }

func BenchmarkJWTVerifyEdDSA(b *testing.B) { benchVerify(b, "ed-1", "EdDSA", nil) }

func BenchmarkJWTSignEdDSA(b *testing.B) {
	f := newJWTFixture(b)
	_ = f.ring.Promote("ed-1")
	iss, _ := token.NewIssuer(token.IssuerConfig{Keys: f.ring, Issuer: "https://id.example", Audience: []string{"api"}})
	b.Run("bedrock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := iss.Issue(&token.Claims{Subject: "user_1"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golangjwt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			now := time.Now()
			t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.RegisteredClaims{
				Issuer: "https://id.example", Subject: "user_1", Audience: jwt.ClaimStrings{"api"},
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)), ID: "0123456789abcdef",
			})
			t.Header["kid"] = "ed-1"
			t.Header["typ"] = "at+jwt"
			if _, err := t.SignedString(f.edPriv); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAPIKeyVerify has no anchor: it measures Parse + Verify against a
// target of under 1µs and no allocations.
func BenchmarkAPIKeyVerify(b *testing.B) {
	tok, p, err := apikey.Generate("bk_live")
	if err != nil {
		b.Fatal(err)
	}
	rec := apikey.Record{ID: p.ID, Prefix: p.Prefix, Hash: p.Hash()}
	now := time.Now()
	b.Run("bedrock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parsed, err := apikey.Parse(tok, "bk_live")
			if err != nil || apikey.Verify(parsed, &rec, now) != nil {
				b.Fatal("verify failed")
			}
		}
	})
}
