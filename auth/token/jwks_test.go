package token_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/token"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestJWKSHandler_ServesPublicKeysOnly(t *testing.T) {
	f := newFixture(t)
	h := token.JWKSHandler(f.ring, 10*time.Minute)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "public, max-age=600", w.Header().Get("Cache-Control"))
	assert.Equal(t, "application/jwk-set+json", w.Header().Get("Content-Type"))
	body := w.Body.String()
	assert.NotContains(t, body, `"d"`, "no private material")
	assert.NotContains(t, body, "hs-1", "HMAC keys are never published")

	keys, err := token.ParseJWKS(w.Body.Bytes())
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, "ed-1", keys[0].ID())
	assert.Equal(t, token.EdDSA, keys[0].Algorithm())
	assert.Equal(t, token.ES256, keys[1].Algorithm())
	assert.False(t, keys[0].CanSign())

	post := httptest.NewRecorder()
	h.ServeHTTP(post, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, post.Code)
}

func TestParseJWKS(t *testing.T) {
	cases := []struct {
		name    string
		data    string
		n       int
		wantErr bool
	}{
		{"empty set", `{"keys":[]}`, 0, false},
		{"skips unknown kinds", `{"keys":[{"kty":"oct","kid":"a"},{"kty":"EC","crv":"P-521","kid":"b"},{"kty":"OKP","crv":"X25519","kid":"c"}]}`, 0, false},
		{"skips encryption keys", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","use":"enc","x":"AAAA"}]}`, 0, false},
		{"not JSON", `keys`, 0, true},
		{"no keys member", `{}`, 0, true},
		{"trailing data", `{"keys":[]} {}`, 0, true},
		{"private material", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`, 0, true},
		{"ed25519 of the wrong size", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"AAAA"}]}`, 0, true},
		{"ec point off the curve", `{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}]}`, 0, true},
		{"no kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, 0, true},
		{"repeated kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, 0, true},
		{"small rsa", `{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]}`, 0, true},
		{"line break in x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaa\r\nPcHURo"}]}`, 0, true},
		{"one ed25519", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := token.ParseJWKS([]byte(tc.data))
			if tc.wantErr {
				assert.ErrorIs(t, err, token.ErrJWKS)
				return
			}
			require.NoError(t, err)
			assert.Len(t, keys, tc.n)
		})
	}
}

// handlerClient is an HTTP client whose requests go straight to h, with no
// network, so that tests under synctest control every goroutine and clock.
func handlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result(), nil
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// jwksServer serves the public keys of a ring and counts its requests.
func jwksServer(ring *token.KeyRing) (*http.Client, *atomic.Int32) {
	var hits atomic.Int32
	h := token.JWKSHandler(ring, 0)
	return handlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h.ServeHTTP(w, r)
	})), &hits
}

func TestRemoteKeySet_FetchesCachesAndRateLimitsUnknownKids(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		client, hits := jwksServer(f.ring)
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: client, MinRefreshInterval: 30 * time.Second})
		require.NoError(t, err)
		defer remote.Close()

		v, err := token.NewVerifier(token.VerifierConfig{Keys: remote, Issuer: "https://id.example", Audience: "api", Now: time.Now})
		require.NoError(t, err)
		iss, err := token.NewIssuer(token.IssuerConfig{Keys: f.ring, Issuer: "https://id.example", Audience: []string{"api"}})
		require.NoError(t, err)
		tok, err := iss.Issue(&token.Claims{Subject: "u"})
		require.NoError(t, err)

		for range 5 {
			_, err := v.Verify(ctx, tok)
			require.NoError(t, err)
		}
		assert.Equal(t, int32(1), hits.Load(), "fetched once, then cached")

		forged := forge(`{"alg":"EdDSA","kid":"nope","typ":"at+jwt"}`, `{}`, func([]byte) []byte { return make([]byte, 64) })
		for range 20 {
			_, err := v.Verify(ctx, forged)
			assert.ErrorIs(t, err, token.ErrUnknownKey)
		}
		assert.Equal(t, int32(1), hits.Load(), "unknown kids within MinRefreshInterval cause no fetch")

		// A new key appears at the issuer; once the interval has passed, the
		// first token that names it triggers one fetch.
		next, _ := token.GenerateEd25519("ed-2")
		require.NoError(t, f.ring.Add(next))
		require.NoError(t, f.ring.SetSigning("ed-2"))
		fresh, err := iss.Issue(&token.Claims{Subject: "u"})
		require.NoError(t, err)
		_, err = v.Verify(ctx, fresh)
		assert.ErrorIs(t, err, token.ErrUnknownKey, "too soon to refetch")
		time.Sleep(31 * time.Second)
		_, err = v.Verify(ctx, fresh)
		require.NoError(t, err)
		assert.Equal(t, int32(2), hits.Load())
	})
}

func TestRemoteKeySet_BackgroundRefreshAndFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		var fail atomic.Bool
		var hits atomic.Int32
		h := token.JWKSHandler(f.ring, 0)
		client := handlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if fail.Load() {
				http.Error(w, "down", http.StatusBadGateway)
				return
			}
			h.ServeHTTP(w, r)
		}))
		var errs atomic.Int32
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: client,
			RefreshInterval: time.Minute, OnError: func(error) { errs.Add(1) }})
		require.NoError(t, err)
		defer remote.Close()

		_, err = remote.Key(ctx, "ed-1")
		require.NoError(t, err)
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		assert.Equal(t, int32(2), hits.Load(), "refreshed in the background")

		fail.Store(true)
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, int32(1), errs.Load())
		k, err := remote.Key(ctx, "ed-1")
		require.NoError(t, err, "the last good set keeps serving")
		assert.Equal(t, "ed-1", k.ID())
	})
}

func TestRemoteKeySet_BoundsTheResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 4096) + `]}`))
	}))
	defer srv.Close()
	remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: srv.URL, Client: srv.Client(), MaxBytes: 1024})
	require.NoError(t, err)
	defer remote.Close()
	err = remote.Refresh(ctx)
	assert.ErrorIs(t, err, token.ErrJWKS)
	_, err = remote.Key(ctx, "any")
	assert.ErrorIs(t, err, token.ErrUnknownKey)
}

func FuzzParseJWKS(f *testing.F) {
	fx := newFixture(f)
	data, _ := token.MarshalJWKS(fx.ring.Keys())
	f.Add(data)
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"r","n":"` + strings.Repeat("A", 400) + `","e":"AQAB"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := token.ParseJWKS(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.CanSign() || k.ID() == "" {
				t.Fatalf("parsed key %q can sign or has no id", k.ID())
			}
		}
	})
}
