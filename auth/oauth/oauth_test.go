package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/oauth"
	"github.com/bedrock-go/bedrock/auth/token"
)

func TestPKCE(t *testing.T) {
	v := oauth.NewVerifier()
	require.NoError(t, oauth.ValidVerifier(v))
	ch, err := oauth.Challenge(v)
	require.NoError(t, err)
	// RFC 7636 Appendix B.
	rfc, err := oauth.Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	require.NoError(t, err)
	assert.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", rfc)

	cases := []struct {
		name                      string
		verifier, challenge, meth string
		want                      error
	}{
		{"match", v, ch, "S256", nil},
		{"plain is refused", v, v, "plain", oauth.ErrPKCEMethod},
		{"no method", v, ch, "", oauth.ErrPKCEMethod},
		{"42 characters", strings.Repeat("a", 42), ch, "S256", oauth.ErrPKCEVerifier},
		{"129 characters", strings.Repeat("a", 129), ch, "S256", oauth.ErrPKCEVerifier},
		{"illegal character", strings.Repeat("a", 42) + "+", ch, "S256", oauth.ErrPKCEVerifier},
		{"other verifier", oauth.NewVerifier(), ch, "S256", oauth.ErrPKCEMismatch},
		{"128 characters of the unreserved set", strings.Repeat("aZ9-._~", 19)[:128], "", "S256", oauth.ErrPKCEMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := oauth.VerifyChallenge(tc.verifier, tc.challenge, tc.meth)
			if tc.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestCheckState(t *testing.T) {
	s := oauth.NewState()
	assert.NoError(t, oauth.CheckState(s, s))
	assert.ErrorIs(t, oauth.CheckState(s+"x", s), oauth.ErrState)
	assert.ErrorIs(t, oauth.CheckState("", ""), oauth.ErrState, "an empty expected state never matches")
}

func TestFlowCookie(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	c, err := oauth.NewFlowCookie(oauth.FlowCookieConfig{Secret: make([]byte, 32), Now: clock})
	require.NoError(t, err)
	f := oauth.NewFlow("/orders")
	w := httptest.NewRecorder()
	require.NoError(t, c.Set(w, f))
	cookie := w.Result().Cookies()[0]
	assert.True(t, cookie.Secure && cookie.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	assert.NotContains(t, cookie.Value, f.Verifier, "the verifier is encrypted")

	read := func(value string) (oauth.Flow, error) {
		r := httptest.NewRequest(http.MethodGet, "/callback", nil)
		r.AddCookie(&http.Cookie{Name: cookie.Name, Value: value})
		return c.Read(r)
	}
	got, err := read(cookie.Value)
	require.NoError(t, err)
	assert.Equal(t, f.State, got.State)
	assert.Equal(t, f.Verifier, got.Verifier)
	assert.Equal(t, "/orders", got.ReturnTo)

	tampered := []byte(cookie.Value)
	tampered[10] ^= 1
	_, err = read(string(tampered))
	assert.ErrorIs(t, err, oauth.ErrFlowCookie)
	_, err = read("")
	assert.ErrorIs(t, err, oauth.ErrFlowCookie)

	other, _ := oauth.NewFlowCookie(oauth.FlowCookieConfig{Secret: []byte(strings.Repeat("z", 32))})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(cookie)
	_, err = other.Read(r)
	assert.ErrorIs(t, err, oauth.ErrFlowCookie, "another secret cannot read it")

	now = now.Add(11 * time.Minute)
	_, err = read(cookie.Value)
	assert.ErrorIs(t, err, oauth.ErrFlowCookie, "expired")

	_, err = oauth.NewFlowCookie(oauth.FlowCookieConfig{Secret: []byte("short")})
	assert.ErrorIs(t, err, oauth.ErrInvalidConfig)
	_, err = oauth.NewFlowCookie(oauth.FlowCookieConfig{Secret: make([]byte, 32), TTL: -time.Minute})
	assert.ErrorIs(t, err, oauth.ErrInvalidConfig, "a negative TTL is not the default")
}

func TestProvider_RejectsBadClientConfig(t *testing.T) {
	p := newProvider(t)
	prov, err := oauth.Discover(context.Background(), p.srv.URL, oauth.DiscoveryConfig{Client: p.srv.Client(), AllowHTTP: true})
	require.NoError(t, err)
	t.Cleanup(func() { prov.Close() })
	_, err = prov.NewClient(oauth.ClientConfig{RedirectURL: "https://shop.example/callback"})
	assert.ErrorIs(t, err, oauth.ErrInvalidConfig, "no ClientID")
	_, err = prov.IDTokenVerifier(oauth.IDTokenConfig{ClientID: "shop", MaxAge: -time.Second})
	assert.ErrorIs(t, err, oauth.ErrInvalidConfig, "negative MaxAge")
	_, err = oauth.Discover(context.Background(), p.srv.URL, oauth.DiscoveryConfig{MaxBytes: -1, AllowHTTP: true})
	assert.ErrorIs(t, err, oauth.ErrInvalidConfig, "negative MaxBytes")
}

// provider is an in-process OpenID Provider: discovery, JWKS, and a token
// endpoint that checks PKCE and returns ID tokens.
type provider struct {
	srv    *httptest.Server
	ring   *token.KeyRing
	issuer *token.Issuer

	mu    sync.Mutex
	codes map[string]grant
	// idClaims, when set, replaces the ID token's claims.
	idClaims func(g grant) *oauth.IDClaims
}

type grant struct {
	challenge, method, nonce, clientID string
}

func newProvider(t *testing.T) *provider {
	p := &provider{codes: map[string]grant{}}
	key, err := token.GenerateES256("op-key-1")
	require.NoError(t, err)
	p.ring, _ = token.NewKeyRing(key)
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.issuer, err = token.NewIssuer(token.IssuerConfig{Keys: p.ring, Issuer: p.srv.URL, Audience: []string{"shop"}, Type: "JWT", TTL: 5 * time.Minute})
	require.NoError(t, err)

	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"ES256"},
			"code_challenge_methods_supported": []string{"S256"}, "response_types_supported": []string{"code"},
		})
	})
	mux.Handle("GET /jwks", token.JWKSHandler(p.ring, time.Minute))
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		g, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		p.mu.Unlock()
		if !ok || oauth.VerifyChallenge(r.PostForm.Get("code_verifier"), g.challenge, g.method) != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		claims := &oauth.IDClaims{Claims: token.Claims{Subject: "op-user-7", Audience: token.Audience{g.clientID}}, Nonce: g.nonce, Email: "u@example.com", EmailVerified: true}
		if p.idClaims != nil {
			claims = p.idClaims(g)
		}
		id, err := p.issuer.Issue(claims)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 300, "id_token": id})
	})
	return p
}

// authorize plays the user's consent at the provider and returns the code
// the redirect would carry.
func (p *provider) authorize(t *testing.T, authURL string) (code, state string) {
	u, err := url.Parse(authURL)
	require.NoError(t, err)
	q := u.Query()
	code = oauth.NewState()
	p.mu.Lock()
	p.codes[code] = grant{challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), nonce: q.Get("nonce"), clientID: q.Get("client_id")}
	p.mu.Unlock()
	return code, q.Get("state")
}

func newClient(t *testing.T, p *provider) *oauth.Client {
	prov, err := oauth.Discover(context.Background(), p.srv.URL, oauth.DiscoveryConfig{Client: p.srv.Client(), AllowHTTP: true})
	require.NoError(t, err)
	t.Cleanup(func() { prov.Close() })
	c, err := prov.NewClient(oauth.ClientConfig{ClientID: "shop", RedirectURL: "https://shop.example/callback", Scopes: []string{"email"}, HTTPClient: p.srv.Client()})
	require.NoError(t, err)
	return c
}

func TestLogin_EndToEnd(t *testing.T) {
	p := newProvider(t)
	c := newClient(t, p)
	flow := oauth.NewFlow("/")
	authURL, err := c.AuthCodeURL(flow)
	require.NoError(t, err)
	assert.Contains(t, authURL, "code_challenge_method=S256")
	assert.Contains(t, authURL, "scope=openid+email")

	code, state := p.authorize(t, authURL)
	require.NoError(t, oauth.CheckState(state, flow.State))
	tok, claims, err := c.Exchange(context.Background(), code, flow)
	require.NoError(t, err)
	assert.Equal(t, "at-1", tok.AccessToken)
	assert.Equal(t, "op-user-7", claims.Subject)
	assert.Equal(t, "u@example.com", claims.Email)
}

func TestLogin_Attacks(t *testing.T) {
	p := newProvider(t)
	c := newClient(t, p)
	ctx := context.Background()

	t.Run("a stolen code without the verifier", func(t *testing.T) {
		flow := oauth.NewFlow("/")
		u, _ := c.AuthCodeURL(flow)
		code, _ := p.authorize(t, u)
		thief := oauth.NewFlow("/")
		_, _, err := c.Exchange(ctx, code, thief)
		assert.Error(t, err)
	})
	t.Run("state mismatch", func(t *testing.T) {
		flow := oauth.NewFlow("/")
		u, _ := c.AuthCodeURL(flow)
		_, state := p.authorize(t, u)
		assert.ErrorIs(t, oauth.CheckState(state, oauth.NewState()), oauth.ErrState)
	})

	cases := []struct {
		name   string
		claims func(g grant) *oauth.IDClaims
		want   error
	}{
		{"nonce mismatch", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Subject: "u", Audience: token.Audience{"shop"}}, Nonce: "other"}
		}, oauth.ErrNonce},
		{"no nonce", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Subject: "u", Audience: token.Audience{"shop"}}}
		}, oauth.ErrNonce},
		{"aud array lacking the client", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Subject: "u", Audience: token.Audience{"other-app", "third"}}, Nonce: g.nonce}
		}, token.ErrAudience},
		{"several audiences without azp", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Subject: "u", Audience: token.Audience{"shop", "other-app"}}, Nonce: g.nonce}
		}, oauth.ErrIDToken},
		{"azp of another client", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Subject: "u", Audience: token.Audience{"shop", "other-app"}}, Nonce: g.nonce, AuthorizedFor: "other-app"}
		}, oauth.ErrIDToken},
		{"expired", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Subject: "u", Audience: token.Audience{"shop"}, ExpiresAt: token.At(time.Now().Add(-time.Hour)), IssuedAt: token.At(time.Now().Add(-2 * time.Hour))}, Nonce: g.nonce}
		}, token.ErrExpired},
		{"issued long ago", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Subject: "u", Audience: token.Audience{"shop"}, IssuedAt: token.At(time.Now().Add(-time.Hour)), ExpiresAt: token.At(time.Now().Add(time.Hour))}, Nonce: g.nonce}
		}, oauth.ErrIDToken},
		{"another issuer", func(g grant) *oauth.IDClaims {
			return &oauth.IDClaims{Claims: token.Claims{Issuer: "https://evil.example", Subject: "u", Audience: token.Audience{"shop"}}, Nonce: g.nonce}
		}, token.ErrIssuer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.idClaims = tc.claims
			defer func() { p.idClaims = nil }()
			flow := oauth.NewFlow("/")
			u, _ := c.AuthCodeURL(flow)
			code, _ := p.authorize(t, u)
			_, _, err := c.Exchange(ctx, code, flow)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, auth.ErrInvalidCredential)
		})
	}
}

func TestDiscover_RejectsBadMetadata(t *testing.T) {
	var doc string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(doc)) }))
	defer srv.Close()
	cases := map[string]string{
		"issuer mismatch": `{"issuer":"https://other","authorization_endpoint":"https://a","token_endpoint":"https://t","jwks_uri":"https://j"}`,
		"http endpoint":   `{"issuer":"` + srv.URL + `","authorization_endpoint":"ftp://a","token_endpoint":"https://t","jwks_uri":"https://j"}`,
		"no S256":         `{"issuer":"` + srv.URL + `","authorization_endpoint":"https://a","token_endpoint":"https://t","jwks_uri":"https://j","code_challenge_methods_supported":["plain"]}`,
		"not JSON":        `<html>`,
		"too large":       `{"issuer":"` + strings.Repeat("x", 70_000) + `"}`,
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			doc = d
			_, err := oauth.Discover(context.Background(), srv.URL, oauth.DiscoveryConfig{Client: srv.Client(), AllowHTTP: true})
			assert.ErrorIs(t, err, oauth.ErrDiscovery)
		})
	}
	_, err := oauth.Discover(context.Background(), "http://insecure.example", oauth.DiscoveryConfig{})
	assert.ErrorIs(t, err, oauth.ErrDiscovery, "http issuers need AllowHTTP")
}

func FuzzVerifyChallenge(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256")
	f.Add("", "", "plain")
	f.Fuzz(func(t *testing.T, verifier, challenge, method string) {
		err := oauth.VerifyChallenge(verifier, challenge, method)
		if err == nil {
			want, _ := oauth.Challenge(verifier)
			if method != "S256" || want != challenge {
				t.Fatalf("accepted %q/%q/%q", verifier, challenge, method)
			}
		}
		if oauth.CheckState(verifier, challenge) == nil && verifier != challenge {
			t.Fatal("states differ but match")
		}
	})
}

func FuzzFlowCookie(f *testing.F) {
	c, _ := oauth.NewFlowCookie(oauth.FlowCookieConfig{Secret: make([]byte, 32)})
	w := httptest.NewRecorder()
	_ = c.Set(w, oauth.NewFlow("/"))
	f.Add(w.Result().Cookies()[0].Value)
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", "__Host-login="+value)
		if _, err := c.Read(r); err != nil && !errors.Is(err, oauth.ErrFlowCookie) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func Example() {
	flow := oauth.NewFlow("/account")
	challenge, _ := oauth.Challenge(flow.Verifier)
	// The authorization server later checks the verifier against the
	// challenge it was sent:
	fmt.Println(oauth.VerifyChallenge(flow.Verifier, challenge, "S256"))
	fmt.Println(oauth.VerifyChallenge(flow.Verifier, flow.Verifier, "plain"))
	// Output:
	// <nil>
	// oauth: PKCE method must be S256: got "plain"
}

func BenchmarkVerifyChallenge(b *testing.B) {
	v := oauth.NewVerifier()
	ch, _ := oauth.Challenge(v)
	b.ReportAllocs()
	for b.Loop() {
		if oauth.VerifyChallenge(v, ch, "S256") != nil {
			b.Fatal("mismatch")
		}
	}
}
