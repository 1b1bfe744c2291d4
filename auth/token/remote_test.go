package token_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/token"
)

// gatedJWKS serves the public keys of ring; while armed, each request
// announces itself on arrived and waits for release.
type gatedJWKS struct {
	ring    *token.KeyRing
	hits    atomic.Int32
	mu      sync.Mutex
	armed   bool
	arrived chan struct{}
	release chan struct{}
	status  atomic.Int32 // answered instead of the set when not zero
}

func newGatedJWKS(ring *token.KeyRing) *gatedJWKS {
	return &gatedJWKS{ring: ring, arrived: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gatedJWKS) arm() { g.mu.Lock(); g.armed = true; g.mu.Unlock() }

func (g *gatedJWKS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.hits.Add(1)
	g.mu.Lock()
	armed := g.armed
	g.mu.Unlock()
	if armed {
		g.arrived <- struct{}{}
		<-g.release
	}
	if code := g.status.Load(); code != 0 {
		http.Error(w, "down", int(code))
		return
	}
	token.JWKSHandler(g.ring, 0).ServeHTTP(w, r)
}

// rotated returns a fixture whose ring signs with a new key ed-2, and an
// issuer and a verifier-side token of that key.
func rotated(t *testing.T) (fixture, string) {
	t.Helper()
	f := newFixture(t)
	next, err := token.GenerateEd25519("ed-2")
	require.NoError(t, err)
	require.NoError(t, f.ring.Add(next))
	require.NoError(t, f.ring.Promote("ed-2"))
	iss, err := token.NewIssuer(token.IssuerConfig{Keys: f.ring, Issuer: "https://id.example", Audience: []string{"api"}})
	require.NoError(t, err)
	tok, err := iss.Issue(&token.Claims{Subject: "u"})
	require.NoError(t, err)
	return f, tok
}

// TestRemoteKeySet_ACancelledCallerDoesNotBlindTheSet reproduces issue
// 20.4 against a real HTTP server: the first caller hangs up while the key
// set is being fetched. It gets its own error; the fetch completes for
// everyone else. Before, the fetch ran on the caller's context, failed, and
// stamped lastFetch, so every key stayed unknown for MinRefreshInterval
// (30 s), and an attacker could repeat it every 30 s.
func TestRemoteKeySet_ACancelledCallerDoesNotBlindTheSet(t *testing.T) {
	f, tok := rotated(t)
	jwks := newGatedJWKS(f.ring)
	jwks.arm()
	srv := httptest.NewServer(jwks)
	defer srv.Close()
	remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: srv.URL, Client: srv.Client()})
	require.NoError(t, err)
	defer remote.Close()

	callerCtx, hangUp := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := remote.Key(callerCtx, "ed-2")
		errc <- err
	}()
	<-jwks.arrived
	hangUp()
	err = <-errc
	assert.ErrorIs(t, err, token.ErrUnknownKey)
	assert.ErrorIs(t, err, context.Canceled, "the caller is told its own context ended")
	close(jwks.release)

	// The next caller joins the fetch still in flight or finds its result.
	v, err := token.NewVerifier(token.VerifierConfig{Keys: remote, Issuer: "https://id.example", Audience: "api"})
	require.NoError(t, err)
	_, err = v.Verify(ctx, tok)
	assert.NoError(t, err, "the key is known at once")
	assert.Equal(t, int32(1), jwks.hits.Load(), "one fetch, shared")
}

// asyncClient runs h for each request in its own goroutine and gives up
// when the request's context ends, as a network client would, while
// keeping everything inside a synctest bubble.
func asyncClient(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(w, r)
		}()
		select {
		case <-done:
			return w.Result(), nil
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	})}
}

// TestRemoteKeySet_ACancelledCallerAfterARotation: the same attack later in
// the set's life, when a rotated key is first seen past MinRefreshInterval.
func TestRemoteKeySet_ACancelledCallerAfterARotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		jwks := newGatedJWKS(f.ring)
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: asyncClient(jwks)})
		require.NoError(t, err)
		defer remote.Close()
		_, err = remote.Key(ctx, "ed-1")
		require.NoError(t, err)
		time.Sleep(31 * time.Second)

		next, err := token.GenerateEd25519("ed-2")
		require.NoError(t, err)
		require.NoError(t, f.ring.Add(next))
		jwks.arm()
		callerCtx, hangUp := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := remote.Key(callerCtx, "ed-2")
			errc <- err
		}()
		<-jwks.arrived
		hangUp()
		err = <-errc
		assert.ErrorIs(t, err, context.Canceled)
		close(jwks.release)
		synctest.Wait()

		_, err = remote.Key(ctx, "ed-2")
		assert.NoError(t, err)
		assert.Equal(t, int32(2), jwks.hits.Load())
	})
}

// TestRemoteKeySet_AFailedFetchDoesNotConsumeTheRefreshWindow: after a
// failure the set retries with backoff from about a second, instead of
// waiting MinRefreshInterval (30 s) or the background interval (15 min).
func TestRemoteKeySet_AFailedFetchDoesNotConsumeTheRefreshWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		jwks := newGatedJWKS(f.ring)
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: handlerClient(jwks)})
		require.NoError(t, err)
		defer remote.Close()
		_, err = remote.Key(ctx, "ed-1")
		require.NoError(t, err)
		time.Sleep(31 * time.Second) // past MinRefreshInterval

		next, err := token.GenerateEd25519("ed-2")
		require.NoError(t, err)
		require.NoError(t, f.ring.Add(next))
		jwks.status.Store(http.StatusBadGateway)
		_, err = remote.Key(ctx, "ed-2")
		assert.ErrorIs(t, err, token.ErrUnknownKey)
		assert.Equal(t, int32(2), jwks.hits.Load())
		_, err = remote.Key(ctx, "ed-2")
		assert.ErrorIs(t, err, token.ErrUnknownKey)
		assert.Equal(t, int32(2), jwks.hits.Load(), "no fetch storm: the retry waits for its backoff")

		jwks.status.Store(0)
		time.Sleep(time.Second)
		synctest.Wait()
		_, err = remote.Key(ctx, "ed-2")
		assert.NoError(t, err, "retried about a second later, not 30 s or 15 min later")
		assert.Equal(t, int32(3), jwks.hits.Load())
	})
}

// TestRemoteKeySet_FirstFetchAtConstructionRetriesWithBackoff: the first
// fetch starts in NewRemoteKeySet and follows the same rules as any other:
// a failure is retried at about 1 s, 2 s, 4 s, without any caller.
func TestRemoteKeySet_FirstFetchAtConstructionRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		jwks := newGatedJWKS(f.ring)
		jwks.status.Store(http.StatusServiceUnavailable)
		var errs atomic.Int32
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: handlerClient(jwks),
			Hooks: token.RemoteHooks{OnFetchError: func(error) { errs.Add(1) }}})
		require.NoError(t, err)
		defer remote.Close()
		synctest.Wait()
		assert.Equal(t, int32(1), jwks.hits.Load(), "fetched at construction, before any caller")
		assert.Equal(t, int32(1), errs.Load())

		_, err = remote.Key(ctx, "ed-1")
		assert.ErrorIs(t, err, token.ErrUnknownKey)
		assert.ErrorContains(t, err, "status 503", "the caller learns why")
		assert.Equal(t, int32(1), jwks.hits.Load(), "a caller does not jump the backoff")

		time.Sleep(time.Second) // second attempt within [0.5 s, 1 s]
		synctest.Wait()
		assert.Equal(t, int32(2), jwks.hits.Load())
		time.Sleep(2 * time.Second) // third within [1 s, 2 s] of the second
		synctest.Wait()
		assert.Equal(t, int32(3), jwks.hits.Load())

		jwks.status.Store(0)
		time.Sleep(4 * time.Second)
		synctest.Wait()
		assert.Equal(t, int32(4), jwks.hits.Load())
		assert.Equal(t, int32(3), errs.Load())
		_, err = remote.Key(ctx, "ed-1")
		assert.NoError(t, err)
	})
}

// TestRemoteKeySet_CallersShareOneFetch: a burst of tokens naming a new
// key causes one fetch, whose result every caller gets.
func TestRemoteKeySet_CallersShareOneFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		jwks := newGatedJWKS(f.ring)
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: asyncClient(jwks)})
		require.NoError(t, err)
		defer remote.Close()
		synctest.Wait()
		time.Sleep(31 * time.Second)
		next, err := token.GenerateEd25519("ed-2")
		require.NoError(t, err)
		require.NoError(t, f.ring.Add(next))
		jwks.arm()

		var wg sync.WaitGroup
		var found atomic.Int32
		for range 20 {
			wg.Go(func() {
				if _, err := remote.Key(ctx, "ed-2"); assert.NoError(t, err) {
					found.Add(1)
				}
			})
		}
		<-jwks.arrived
		synctest.Wait() // every caller waits for the one fetch
		close(jwks.release)
		wg.Wait()
		assert.Equal(t, int32(20), found.Load())
		assert.Equal(t, int32(2), jwks.hits.Load())
	})
}

// TestRemoteKeySet_FetchTimeoutBoundsAHangingIssuer: a fetch has its own
// deadline, so an issuer that never answers cannot hold callers that did
// not set one, and counts as a failure.
func TestRemoteKeySet_FetchTimeoutBoundsAHangingIssuer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		jwks := newGatedJWKS(f.ring)
		jwks.arm() // never released: the issuer hangs
		var lastErr atomic.Value
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: asyncClient(jwks),
			FetchTimeout: 5 * time.Second, Hooks: token.RemoteHooks{OnFetchError: func(err error) { lastErr.Store(err) }}})
		require.NoError(t, err)
		defer remote.Close()
		start := time.Now()
		_, err = remote.Key(context.Background(), "ed-1")
		assert.ErrorIs(t, err, token.ErrUnknownKey)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 5*time.Second, time.Since(start))
		synctest.Wait()
		assert.ErrorIs(t, lastErr.Load().(error), context.DeadlineExceeded)
		close(jwks.release)
	})
}

// TestRemoteKeySet_CloseEndsAFetchInFlight: Close cancels the fetch and
// waits for it (synctest fails on a goroutine left behind); an ended fetch
// is not reported as a failure.
func TestRemoteKeySet_CloseEndsAFetchInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		jwks := newGatedJWKS(f.ring)
		jwks.arm()
		var errs atomic.Int32
		remote, err := token.NewRemoteKeySet(token.RemoteConfig{URL: "https://id.example/jwks", Client: asyncClient(jwks),
			Hooks: token.RemoteHooks{OnFetchError: func(error) { errs.Add(1) }}})
		require.NoError(t, err)
		<-jwks.arrived
		require.NoError(t, remote.Close())
		assert.Zero(t, errs.Load())
		_, err = remote.Key(ctx, "ed-1")
		assert.ErrorIs(t, err, token.ErrUnknownKey, "nothing is fetched after Close")
		assert.Equal(t, int32(1), jwks.hits.Load())
		close(jwks.release)
	})
}

func TestNewRemoteKeySet_RejectsBadConfig(t *testing.T) {
	cases := map[string]token.RemoteConfig{
		"no URL":                      {},
		"negative RefreshInterval":    {URL: "https://id.example/jwks", RefreshInterval: -time.Minute},
		"negative MinRefreshInterval": {URL: "https://id.example/jwks", MinRefreshInterval: -time.Second},
		"negative FetchTimeout":       {URL: "https://id.example/jwks", FetchTimeout: -time.Second},
		"negative MaxBytes":           {URL: "https://id.example/jwks", MaxBytes: -1},
	}
	for name, cfg := range cases {
		s, err := token.NewRemoteKeySet(cfg)
		assert.Nil(t, s, name)
		assert.ErrorIs(t, err, token.ErrInvalidConfig, name)
	}
}
