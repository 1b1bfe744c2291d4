package token_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/auth/token"
)

func Example() {
	key, _ := token.GenerateEd25519("2026-11")
	ring, _ := token.NewKeyRing(key)

	issuer, err := token.NewIssuer(token.IssuerConfig{
		Keys: ring, Issuer: "https://shop.example", Audience: []string{"shop-api"}, TTL: 15 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	verifier, err := token.NewVerifier(token.VerifierConfig{
		Keys: ring, Issuer: "https://shop.example", Audience: "shop-api",
	})
	if err != nil {
		panic(err)
	}

	type shopClaims struct {
		token.Claims
		Roles []string `json:"roles"`
	}
	tok, _ := issuer.Issue(&shopClaims{Claims: token.Claims{Subject: "user_42"}, Roles: []string{"admin"}})

	claims, err := token.VerifyAs[shopClaims](context.Background(), verifier, tok)
	fmt.Println(claims.Subject, claims.Roles, err)

	_, err = verifier.Verify(context.Background(), tok+"x")
	fmt.Println(errors.Is(err, token.ErrSignature) || errors.Is(err, token.ErrMalformed))
	// Output:
	// user_42 [admin] <nil>
	// true
}

// ExampleKeyRing_Generate rotates the signing key without downtime: the
// next key is published before it signs, and the old one verifies until
// its tokens have expired.
func ExampleKeyRing_Generate() {
	first, _ := token.GenerateEd25519("2026-11")
	ring, _ := token.NewKeyRing(first)
	issuer, _ := token.NewIssuer(token.IssuerConfig{Keys: ring, Issuer: "https://shop.example", Audience: []string{"shop-api"}})
	verifier, _ := token.NewVerifier(token.VerifierConfig{Keys: ring, Issuer: "https://shop.example", Audience: "shop-api"})
	old, _ := issuer.Issue(&token.Claims{Subject: "user_42"})

	next, err := ring.Generate(token.EdDSA) // published by JWKSHandler from now on
	if err != nil {
		panic(err)
	}
	// ... once verifiers have fetched the key set:
	if err := ring.Promote(next.ID()); err != nil {
		panic(err)
	}
	fresh, _ := issuer.Issue(&token.Claims{Subject: "user_42"})
	_, errOld := verifier.Verify(context.Background(), old)
	_, errFresh := verifier.Verify(context.Background(), fresh)
	fmt.Println(ring.Primary() == next, errOld, errFresh)

	// ... once the longest-lived token of the old key has expired:
	_ = ring.Remove(first.ID())
	_, errOld = verifier.Verify(context.Background(), old)
	fmt.Println(errors.Is(errOld, token.ErrUnknownKey))
	// Output:
	// true <nil> <nil>
	// true
}

// ExampleRemoteKeySet verifies tokens of another issuer through its JWKS,
// with the hooks a service logs: failed fetches and skipped keys.
func ExampleRemoteKeySet() {
	key, _ := token.GenerateEd25519("2026-11")
	ring, _ := token.NewKeyRing(key)
	issuerJWKS := httptest.NewServer(token.JWKSHandler(ring, 0))
	defer issuerJWKS.Close()

	keys, err := token.NewRemoteKeySet(token.RemoteConfig{
		URL: issuerJWKS.URL,
		Hooks: token.RemoteHooks{
			OnFetchError: func(err error) { fmt.Println("JWKS fetch failed:", err) },
			OnSkippedKey: func(s token.SkippedKey) { fmt.Println(s) },
		},
	})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	verifier, _ := token.NewVerifier(token.VerifierConfig{Keys: keys, Issuer: "https://id.example", Audience: "shop-api"})

	issuer, _ := token.NewIssuer(token.IssuerConfig{Keys: ring, Issuer: "https://id.example", Audience: []string{"shop-api"}})
	tok, _ := issuer.Issue(&token.Claims{Subject: "user_42"})
	claims, err := verifier.Verify(context.Background(), tok)
	fmt.Println(claims.Subject, err)
	// Output: user_42 <nil>
}

func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	v := f.verifier(b, nil)
	for _, kid := range []string{"ed-1", "es-1", "hs-1"} {
		tok, _ := f.issuer(b, kid).Issue(&token.Claims{Subject: "user_1"})
		b.Run(kid, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkIssue(b *testing.B) {
	f := newFixture(b)
	for _, kid := range []string{"ed-1", "hs-1"} {
		iss := f.issuer(b, kid)
		b.Run(kid, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := iss.Issue(&token.Claims{Subject: "user_1"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
