package token_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/token"
)

const (
	edX   = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" // RFC 8037 A.2
	edD   = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	goodK = `{"kty":"OKP","crv":"Ed25519","kid":"good","x":"` + edX + `"}`
)

func rsaJWK(kid string, bits int) string {
	n := enc.EncodeToString([]byte(strings.Repeat("\xff", bits/8)))
	return `{"kty":"RSA","kid":"` + kid + `","n":"` + n + `","e":"AQAB"}`
}

func edJWK(kid string) string {
	b, _ := json.Marshal(map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": edX})
	return string(b)
}

// TestParseJWKS_SkipsWhatItCannotUse: RFC 7517 §5, a key that cannot be
// used is left out and reported, and the rest of the set is kept
// (issue 21.2).
func TestParseJWKS_SkipsWhatItCannotUse(t *testing.T) {
	cases := []struct {
		name   string
		key    string
		kept   []string // kids kept besides "good"
		reason error    // nil: nothing skipped
	}{
		{"RSA-1024", rsaJWK("rsa", 1024), nil, token.ErrKey},
		{"RSA-2048 is kept", rsaJWK("rsa", 2048), []string{"rsa"}, nil},
		{"kid with a space is kept", edJWK("my key"), []string{"my key"}, nil},
		{"non-ASCII kid is kept", edJWK("clé-2024"), []string{"clé-2024"}, nil},
		{"128-byte kid is kept", edJWK(strings.Repeat("k", 128)), []string{strings.Repeat("k", 128)}, nil},
		{"129-byte kid", edJWK(strings.Repeat("k", 129)), nil, token.ErrKeyUnsupported},
		{"kid with a control character", edJWK("k\x01"), nil, token.ErrKeyUnsupported},
		{"no kid", `{"kty":"OKP","crv":"Ed25519","x":"` + edX + `"}`, nil, token.ErrKeyUnsupported},
		{"kid not a string", `{"kty":"OKP","crv":"Ed25519","kid":7,"x":"` + edX + `"}`, nil, token.ErrKey},
		{"not an object", `"a string"`, nil, token.ErrKey},
		{"oct without k", `{"kty":"oct","kid":"sym"}`, nil, token.ErrKeyUnsupported},
		{"oct with its secret", `{"kty":"oct","kid":"sym","k":"c2VjcmV0"}`, nil, token.ErrKey},
		{"private key published", `{"kty":"OKP","crv":"Ed25519","kid":"priv","x":"` + edX + `","d":"` + edD + `"}`, nil, token.ErrKey},
		{"encryption key", `{"kty":"OKP","crv":"Ed25519","kid":"e","use":"enc","x":"` + edX + `"}`, nil, token.ErrKeyUnsupported},
		{"key_ops without verify", `{"kty":"OKP","crv":"Ed25519","kid":"e","key_ops":["encrypt"],"x":"` + edX + `"}`, nil, token.ErrKeyUnsupported},
		{"key_ops with verify is kept", `{"kty":"OKP","crv":"Ed25519","kid":"v","key_ops":["verify"],"x":"` + edX + `"}`, []string{"v"}, nil},
		{"P-521", `{"kty":"EC","crv":"P-521","kid":"p521","x":"AA","y":"AA"}`, nil, token.ErrKeyUnsupported},
		{"X25519", `{"kty":"OKP","crv":"X25519","kid":"x","x":"` + edX + `"}`, nil, token.ErrKeyUnsupported},
		{"RS512", strings.Replace(rsaJWK("rs512", 2048), `"kty"`, `"alg":"RS512","kty"`, 1), nil, token.ErrKeyUnsupported},
		{"unknown kty", `{"kty":"PQC","kid":"q"}`, nil, token.ErrKeyUnsupported},
		{"Ed25519 of the wrong size", `{"kty":"OKP","crv":"Ed25519","kid":"short","x":"AAAA"}`, nil, token.ErrKey},
		{"EC point off the curve", `{"kty":"EC","crv":"P-256","kid":"off","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}`, nil, token.ErrKey},
		{"line break in x", `{"kty":"OKP","crv":"Ed25519","kid":"lb","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaa\r\nPcHURo"}`, nil, token.ErrKey},
		{"kid repeated on a key of the same type", edJWK("good"), nil, token.ErrKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var skipped []token.SkippedKey
			keys, err := token.ParseJWKSFunc([]byte(`{"keys":[`+goodK+`,`+tc.key+`]}`),
				func(s token.SkippedKey) { skipped = append(skipped, s) })
			require.NoError(t, err)
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID())
				assert.False(t, k.CanSign())
			}
			assert.Equal(t, append([]string{"good"}, tc.kept...), ids)
			if tc.reason == nil {
				assert.Empty(t, skipped)
				return
			}
			require.Len(t, skipped, 1)
			assert.Equal(t, 1, skipped[0].Index)
			assert.ErrorIs(t, skipped[0].Err, tc.reason)
			assert.NotEmpty(t, skipped[0].Err.Error())
		})
	}
}

func TestParseJWKS_SkippedKeyDescribesTheKey(t *testing.T) {
	var got []token.SkippedKey
	_, err := token.ParseJWKSFunc([]byte(`{"keys":[`+goodK+`,`+rsaJWK("old-rsa", 1024)+`]}`), func(s token.SkippedKey) { got = append(got, s) })
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 1, got[0].Index)
	assert.Equal(t, "old-rsa", got[0].ID)
	assert.Equal(t, "RSA", got[0].Type)
	assert.Contains(t, got[0].String(), "old-rsa")
}

// TestParseJWKS_SameKidOnKeysOfDifferentTypes: RFC 7517 §4.5 allows one kid
// for alternatives of different key types; both are kept.
func TestParseJWKS_SameKidOnKeysOfDifferentTypes(t *testing.T) {
	es, err := token.GenerateES256("shared")
	require.NoError(t, err)
	esPub, err := es.Public()
	require.NoError(t, err)
	data, err := token.MarshalJWKS([]*token.Key{esPub})
	require.NoError(t, err)
	var set struct{ Keys []json.RawMessage }
	require.NoError(t, json.Unmarshal(data, &set))

	keys, err := token.ParseJWKS([]byte(`{"keys":[` + edJWK("shared") + `,` + string(set.Keys[0]) + `]}`))
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, []token.Algorithm{token.EdDSA, token.ES256}, []token.Algorithm{keys[0].Algorithm(), keys[1].Algorithm()})
}

// TestParseJWKS_NothingUsable: a set with keys of which none can be used is
// an error of its own, after every key was reported.
func TestParseJWKS_NothingUsable(t *testing.T) {
	var n int
	keys, err := token.ParseJWKSFunc([]byte(`{"keys":[`+rsaJWK("a", 1024)+`,{"kty":"oct","kid":"b"},{"kty":"OKP","crv":"Ed25519","x":"`+edX+`"}]}`),
		func(token.SkippedKey) { n++ })
	assert.ErrorIs(t, err, token.ErrNoUsableKeys)
	assert.ErrorIs(t, err, token.ErrJWKS)
	assert.Empty(t, keys)
	assert.Equal(t, 3, n, "every key was reported")
}

// TestRemoteKeySet_ServesTheUsableKeysOfAMixedSet composes a real issuer, a
// JWKS served over HTTP with an unusable key beside the real ones, a
// RemoteKeySet and a Verifier.
func TestRemoteKeySet_ServesTheUsableKeysOfAMixedSet(t *testing.T) {
	ed, err := token.GenerateEd25519("shared")
	require.NoError(t, err)
	es, err := token.GenerateES256("shared")
	require.NoError(t, err)
	edPub, _ := ed.Public()
	esPub, _ := es.Public()
	good, err := token.MarshalJWKS([]*token.Key{edPub, esPub})
	require.NoError(t, err)
	body := strings.Replace(string(good), `{"keys":[`, `{"keys":[`+rsaJWK("legacy", 1024)+`,`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()

	var mu sync.Mutex
	var skipped []string
	remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: srv.URL, Client: srv.Client(),
		Hooks: token.RemoteHooks{OnSkippedKey: func(s token.SkippedKey) { mu.Lock(); skipped = append(skipped, s.ID); mu.Unlock() }}})
	require.NoError(t, err)
	defer remote.Close()
	v, err := token.NewVerifier(token.VerifierConfig{Keys: remote, Issuer: "https://id.example", Audience: "api", Now: time.Now})
	require.NoError(t, err)

	for _, k := range []*token.Key{ed, es} {
		ring, err := token.NewKeyRing(k)
		require.NoError(t, err)
		iss, err := token.NewIssuer(token.IssuerConfig{Keys: ring, Issuer: "https://id.example", Audience: []string{"api"}})
		require.NoError(t, err)
		tok, err := iss.Issue(&token.Claims{Subject: "u"})
		require.NoError(t, err)
		_, err = v.Verify(ctx, tok)
		assert.NoError(t, err, fmt.Sprintf("%s token with kid %q", k.Algorithm(), k.ID()))
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, skipped, "legacy")
}

// TestRemoteKeySet_KeepsItsLastGoodSetWhenNothingIsUsable: a published set
// of only unusable keys is a failed fetch, not an order to forget every
// key; an empty set is taken at its word.
func TestRemoteKeySet_KeepsItsLastGoodSetWhenNothingIsUsable(t *testing.T) {
	f := newFixture(t)
	good, err := token.MarshalJWKS(f.ring.Keys())
	require.NoError(t, err)
	var mu sync.Mutex
	body := string(good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	serve := func(s string) { mu.Lock(); body = s; mu.Unlock() }

	remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: srv.URL, Client: srv.Client()})
	require.NoError(t, err)
	defer remote.Close()
	require.NoError(t, remote.Refresh(ctx))

	serve(`{"keys":[` + rsaJWK("weak", 1024) + `]}`)
	assert.ErrorIs(t, remote.Refresh(ctx), token.ErrNoUsableKeys)
	_, err = remote.Key(ctx, "ed-1")
	assert.NoError(t, err, "the last good set keeps serving")

	serve(`{"keys":[]}`)
	require.NoError(t, remote.Refresh(ctx))
	_, err = remote.Key(ctx, "ed-1")
	assert.ErrorIs(t, err, token.ErrUnknownKey, "an empty set empties the set")
}
