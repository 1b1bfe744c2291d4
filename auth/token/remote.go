package token

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// RemoteConfig configures a [RemoteKeySet].
type RemoteConfig struct {
	// URL of the key set; required.
	URL string
	// Client fetches the set; a client with a 10s timeout when nil.
	Client *http.Client
	// RefreshInterval is how often the set is fetched in the background
	// after a successful fetch; 15m when zero.
	RefreshInterval time.Duration
	// MinRefreshInterval limits fetches caused by an unknown kid to one per
	// interval after a successful fetch, so forged kids cannot make the
	// verifier hammer the issuer; 30s when zero. A failed fetch does not
	// count: the set retries with a backoff that starts near 1s and grows
	// to MinRefreshInterval.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds each fetch, which runs on its own context and
	// never on a caller's; 10s when zero.
	FetchTimeout time.Duration
	// MaxBytes bounds the response; 256 KiB when zero.
	MaxBytes int64
	// Hooks receives instrumentation callbacks.
	Hooks RemoteHooks
}

// RemoteHooks are the callbacks of a [RemoteKeySet]. Nil fields are
// skipped.
type RemoteHooks struct {
	// OnFetchError is told about every failed fetch, whatever caused it
	// (the first fetch, the background refresh, an unknown kid, Refresh).
	// A fetch ended by Close is not a failure.
	OnFetchError func(error)
	// OnSkippedKey is told about every key of a fetched set that is left
	// out (see [ParseJWKSFunc]), on every fetch. The other keys of the set
	// are served.
	OnSkippedKey func(SkippedKey)
}

// RemoteKeySet is a [KeySource] over a JWKS URL. Its first fetch starts in
// NewRemoteKeySet; afterwards it refreshes in the background every
// RefreshInterval, and refetches when a token names an unknown kid (at most
// once per MinRefreshInterval after a successful fetch). It keeps serving
// the last good set when a fetch fails, and retries a failed fetch with
// backoff (about 1s, 2s, 4s, ... up to MinRefreshInterval).
//
// Fetches are detached from callers: one fetch runs at a time, on its own
// context with FetchTimeout, and callers that need it wait for its result
// or for their own context, whichever ends first, so a caller that gives up
// never fails the fetch for the others. It is safe for concurrent use;
// Close stops the background refresh and any fetch in flight.
//
// Most callers only hand it to VerifierConfig.Keys, which calls
// [RemoteKeySet.Key], and Close it at shutdown; [RemoteKeySet.Refresh]
// fetches at once, for a caller that knows the issuer rotated.
type RemoteKeySet struct {
	cfg   RemoteConfig
	retry backoff.Exponential

	life   context.Context // ends at Close; every fetch derives from it
	cancel context.CancelFunc
	wg     sync.WaitGroup // the refresh loop and the fetch in flight
	wake   chan struct{}  // a fetch ended: the loop plans again

	mu       sync.RWMutex
	keys     map[string][]*Key // by kid; several only for different algorithms
	fetched  time.Time         // last successful fetch; zero before the first
	failures int               // consecutive failed fetches
	retryAt  time.Time         // after a failure, no fetch starts before
	lastErr  error
	flight   *fetchCall // the fetch in flight, or nil
	closed   bool
}

// fetchCall is one fetch that any number of callers may wait for.
type fetchCall struct {
	done chan struct{}
	err  error // set before done is closed
}

// errClosed answers callers after Close.
var errClosed = errors.New("token: remote key set closed")

// NewRemoteKeySet returns a key set for cfg and starts its first fetch and
// its background refresh, which run until Close. A bad cfg is an error
// wrapping [ErrInvalidConfig].
func NewRemoteKeySet(cfg RemoteConfig) (*RemoteKeySet, error) {
	switch {
	case cfg.URL == "":
		return nil, fmt.Errorf("%w: URL is required", ErrInvalidConfig)
	case cfg.RefreshInterval < 0 || cfg.MinRefreshInterval < 0 || cfg.FetchTimeout < 0:
		return nil, fmt.Errorf("%w: negative RefreshInterval, MinRefreshInterval or FetchTimeout", ErrInvalidConfig)
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("%w: negative MaxBytes", ErrInvalidConfig)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 15 * time.Minute
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = 30 * time.Second
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 256 << 10
	}
	life, cancel := context.WithCancel(context.Background())
	s := &RemoteKeySet{
		cfg: cfg,
		// Equal jitter spreads the retries of many verifiers of one issuer
		// while keeping each within [d/2, d].
		retry:  backoff.Exponential{Initial: time.Second, Max: cfg.MinRefreshInterval, Jitter: backoff.EqualJitter},
		life:   life,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
	}
	s.mu.Lock()
	s.startLocked()
	s.mu.Unlock()
	s.wg.Add(1)
	go s.refreshLoop()
	return s, nil
}

// Close stops the background refresh and any fetch in flight, and waits
// for them to end. Lookups after Close find only the keys already known.
func (s *RemoteKeySet) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// Key implements [KeySource]. When the set has several keys with id (of
// different algorithms), it returns the first; a [Verifier] picks the one
// of the token's algorithm.
func (s *RemoteKeySet) Key(ctx context.Context, id string) (*Key, error) {
	return s.keyFor(ctx, id, "")
}

// keyFor returns the key with id and algorithm alg, or the first with id
// when alg is empty or none matches (the verifier then refuses the alg).
func (s *RemoteKeySet) keyFor(ctx context.Context, id string, alg Algorithm) (*Key, error) {
	s.mu.RLock()
	k := pick(s.keys[id], alg)
	s.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	return s.fetchFor(ctx, id, alg)
}

func pick(keys []*Key, alg Algorithm) *Key {
	for _, k := range keys {
		if k.alg == alg {
			return k
		}
	}
	if len(keys) > 0 {
		return keys[0]
	}
	return nil
}

// fetchFor is the slow path of an unknown kid: join the fetch in flight,
// or start one if the rate limit and the backoff allow, and look again.
func (s *RemoteKeySet) fetchFor(ctx context.Context, id string, alg Algorithm) (*Key, error) {
	s.mu.Lock()
	// A fetch may have ended since the caller's first look.
	if k := pick(s.keys[id], alg); k != nil {
		s.mu.Unlock()
		return k, nil
	}
	call := s.flight
	if call == nil && s.mayFetchLocked(time.Now()) {
		call = s.startLocked()
	}
	lastErr := s.lastErr
	s.mu.Unlock()
	if call == nil {
		if lastErr != nil {
			return nil, fmt.Errorf("%w: key set unavailable, retrying: %w", ErrUnknownKey, lastErr)
		}
		return nil, ErrUnknownKey
	}
	if err := wait(ctx, call); err != nil {
		return nil, fmt.Errorf("%w: key set unavailable: %w", ErrUnknownKey, err)
	}
	s.mu.RLock()
	k := pick(s.keys[id], alg)
	s.mu.RUnlock()
	if k == nil {
		return nil, ErrUnknownKey
	}
	return k, nil
}

// mayFetchLocked reports whether an unknown kid may start a fetch at now:
// not within MinRefreshInterval of a successful fetch, nor within the
// backoff after a failed one.
func (s *RemoteKeySet) mayFetchLocked(now time.Time) bool {
	if !s.fetched.IsZero() && now.Sub(s.fetched) < s.cfg.MinRefreshInterval {
		return false
	}
	return !now.Before(s.retryAt)
}

// Refresh fetches the key set now, or joins the fetch in flight, ignoring
// the rate limit and the backoff, and waits for it or for ctx.
func (s *RemoteKeySet) Refresh(ctx context.Context) error {
	s.mu.Lock()
	call := s.flight
	if call == nil {
		call = s.startLocked()
	}
	s.mu.Unlock()
	return wait(ctx, call)
}

// wait returns call's error once it ends, or ctx's error if ctx ends first;
// the fetch goes on for the other callers either way.
func wait(ctx context.Context, call *fetchCall) error {
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the key set: %w", context.Cause(ctx))
	}
}

// startLocked starts a fetch; s.mu must be held and no fetch in flight.
// After Close it returns a call that has already failed.
func (s *RemoteKeySet) startLocked() *fetchCall {
	call := &fetchCall{done: make(chan struct{})}
	if s.closed {
		call.err = errClosed
		close(call.done)
		return call
	}
	s.flight = call
	s.wg.Add(1)
	go s.fetch(call)
	return call
}

// fetch runs one fetch on the set's own context and records its outcome.
func (s *RemoteKeySet) fetch(call *fetchCall) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.life, s.cfg.FetchTimeout)
	keys, err := s.get(ctx)
	cancel()
	closing := s.life.Err() != nil

	s.mu.Lock()
	now := time.Now()
	switch {
	case err == nil:
		m := make(map[string][]*Key, len(keys))
		for _, k := range keys {
			m[k.id] = append(m[k.id], k)
		}
		s.keys, s.fetched, s.failures, s.retryAt, s.lastErr = m, now, 0, time.Time{}, nil
	case closing:
		err = fmt.Errorf("%w: %w", errClosed, err)
	default:
		s.retryAt = now.Add(s.retry.Delay(s.failures, nil))
		s.failures++
		s.lastErr = err
	}
	s.flight = nil
	call.err = err
	s.mu.Unlock()
	close(call.done)

	if err != nil && !closing && s.cfg.Hooks.OnFetchError != nil {
		s.cfg.Hooks.OnFetchError(err)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// refreshLoop starts the background fetches: RefreshInterval after a
// success, at the end of the backoff after a failure.
func (s *RemoteKeySet) refreshLoop() {
	defer s.wg.Done()
	timer := time.NewTimer(s.cfg.RefreshInterval)
	defer timer.Stop()
	for {
		s.mu.Lock()
		busy := s.flight != nil
		due := s.fetched.Add(s.cfg.RefreshInterval)
		if s.failures > 0 {
			due = s.retryAt
		}
		if !busy && !time.Now().Before(due) {
			s.startLocked()
			busy = true
		}
		s.mu.Unlock()

		timerC := timer.C
		if busy {
			timerC = nil // the fetch's end wakes the loop
		} else {
			timer.Reset(time.Until(due))
		}
		select {
		case <-s.life.Done():
			return
		case <-s.wake:
		case <-timerC:
		}
	}
}

func (s *RemoteKeySet) get(ctx context.Context) ([]*Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("token: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token: fetch JWKS: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("token: read JWKS: %w", err)
	}
	if int64(len(body)) > s.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrJWKS, s.cfg.MaxBytes)
	}
	return ParseJWKSFunc(body, s.cfg.Hooks.OnSkippedKey)
}
