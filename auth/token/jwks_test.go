package token_test

import (
	"encoding/json"
	"errors"
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

// TestParseJWKS_WholeSetErrors: only a document that is not a JWK Set at
// all fails as a whole.
func TestParseJWKS_WholeSetErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not JSON":          `keys`,
		"no keys member":    `{}`,
		"keys not an array": `{"keys":{"kty":"OKP"}}`,
		"keys null":         `{"keys":null}`,
		"trailing data":     `{"keys":[]} {}`,
		"not an object":     `[{"keys":[]}]`,
	} {
		t.Run(name, func(t *testing.T) {
			keys, err := token.ParseJWKS([]byte(data))
			assert.ErrorIs(t, err, token.ErrJWKS)
			assert.NotErrorIs(t, err, token.ErrNoUsableKeys)
			assert.Empty(t, keys)
		})
	}
	t.Run("an empty set is a set without keys", func(t *testing.T) {
		keys, err := token.ParseJWKS([]byte(`{"keys":[]}`))
		require.NoError(t, err)
		assert.Empty(t, keys)
	})
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
		require.NoError(t, f.ring.Promote("ed-2"))
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

// TestRemoteKeySet_BackgroundRefreshAndFailures: a background refresh
// every RefreshInterval; after a failure, retries at about 1 s, 2 s, ...
// (equal jitter: within [d/2, d]), while the last good set keeps serving.
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
			RefreshInterval: time.Minute, Hooks: token.RemoteHooks{OnFetchError: func(error) { errs.Add(1) }}})
		require.NoError(t, err)
		defer remote.Close()
		start := time.Now()
		at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))); synctest.Wait() }

		_, err = remote.Key(ctx, "ed-1")
		require.NoError(t, err)
		assert.Equal(t, int32(1), hits.Load(), "fetched at construction")
		at(61 * time.Second)
		assert.Equal(t, int32(2), hits.Load(), "refreshed in the background")

		fail.Store(true)
		at(120*time.Second + 400*time.Millisecond) // the refresh at 120 s failed
		assert.Equal(t, int32(1), errs.Load())
		k, err := remote.Key(ctx, "ed-1")
		require.NoError(t, err, "the last good set keeps serving")
		assert.Equal(t, "ed-1", k.ID())

		at(121*time.Second + 400*time.Millisecond) // retried within [0.5 s, 1 s]
		assert.Equal(t, int32(2), errs.Load())
		fail.Store(false)
		at(123*time.Second + 400*time.Millisecond) // retried within [1 s, 2 s], and succeeded
		assert.Equal(t, int32(2), errs.Load())
		assert.Equal(t, int32(5), hits.Load())
		at(180 * time.Second)
		assert.Equal(t, int32(5), hits.Load(), "back to one refresh per interval")
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
	f.Add([]byte(`{"keys":[` + goodK + `,` + rsaJWK("old", 1024) + `,` + edJWK("clé") + `,` + edJWK(strings.Repeat("k", 129)) + `]}`))
	f.Add([]byte(`{"keys":[` + edJWK("dup") + `,` + edJWK("dup") + `,{"kty":"oct","kid":"s","k":"AA"},"x",7]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		skipped := 0
		keys, err := token.ParseJWKSFunc(data, func(s token.SkippedKey) {
			skipped++
			if !errors.Is(s.Err, token.ErrKey) && !errors.Is(s.Err, token.ErrKeyUnsupported) {
				t.Fatalf("skipped key %d without a typed reason: %v", s.Index, s.Err)
			}
		})
		if err != nil {
			if !errors.Is(err, token.ErrJWKS) || len(keys) != 0 {
				t.Fatalf("error %v with %d keys", err, len(keys))
			}
			if errors.Is(err, token.ErrNoUsableKeys) && skipped == 0 {
				t.Fatal("no usable keys, yet none reported")
			}
			return
		}
		type kidAlg struct {
			kid string
			alg token.Algorithm
		}
		seen := map[kidAlg]bool{}
		for _, k := range keys {
			if k.CanSign() || k.ID() == "" {
				t.Fatalf("parsed key %q can sign or has no id", k.ID())
			}
			if seen[kidAlg{k.ID(), k.Algorithm()}] {
				t.Fatalf("kid %q twice for %s", k.ID(), k.Algorithm())
			}
			seen[kidAlg{k.ID(), k.Algorithm()}] = true
		}
	})
}
