package token

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Errors about JSON Web Key Sets and the keys in them.
var (
	// ErrJWKS is wrapped by errors about a document that is not a JSON Web
	// Key Set at all; [ParseJWKS] returns no keys with it.
	ErrJWKS = errors.New("token: invalid JWKS")
	// ErrNoUsableKeys means a JWK Set has keys but none this package can
	// verify with; it wraps ErrJWKS. An empty set is not this error.
	ErrNoUsableKeys = fmt.Errorf("%w: no usable key", ErrJWKS)
	// ErrKeyUnsupported is wrapped by the reason a key of a JWK Set is
	// skipped when it is of a kind this package does not verify with: a key
	// type, curve or algorithm other than Ed25519, P-256 and RS256, an
	// encryption key, a symmetric (oct) key, or a kid the verifier cannot
	// select (absent, longer than 128 bytes, or with control characters).
	// Broken keys of a usable kind (bad material, RSA under 2048 bits,
	// published private material, a repeated kid) wrap [ErrKey] instead.
	ErrKeyUnsupported = errors.New("token: unsupported key")
)

// SkippedKey describes a key of a JWK Set that [ParseJWKSFunc] left out.
type SkippedKey struct {
	Index int    // position in the set's "keys" array
	ID    string // the key's kid as published; "" when absent or unreadable
	Type  string // the key's kty; "" when absent or unreadable
	Err   error  // why: wraps ErrKeyUnsupported or ErrKey
}

// String describes s for a log line.
func (s SkippedKey) String() string {
	return fmt.Sprintf("JWK %d (kty %q, kid %q) skipped: %v", s.Index, s.Type, s.ID, s.Err)
}

// jwk is one JSON Web Key (RFC 7517) as read or written.
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
	Alg    string   `json:"alg,omitempty"`
	Crv    string   `json:"crv,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	// Private or symmetric material must never be published; a key that
	// has it is never used.
	D string `json:"d,omitempty"`
	K string `json:"k,omitempty"`
}

type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// MarshalJWKS returns the JSON Web Key Set of the public halves of keys.
// HS256 keys have no public half and are left out.
func MarshalJWKS(keys []*Key) ([]byte, error) {
	out := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	enc := base64.RawURLEncoding
	for _, k := range keys {
		j := jwk{Kid: k.id, Use: "sig", Alg: string(k.alg)}
		switch k.alg {
		case EdDSA:
			j.Kty, j.Crv, j.X = "OKP", "Ed25519", enc.EncodeToString(k.edPub)
		case ES256:
			raw, err := k.ecPub.Bytes() // 0x04 || X || Y
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrKey, err)
			}
			j.Kty, j.Crv = "EC", "P-256"
			j.X, j.Y = enc.EncodeToString(raw[1:33]), enc.EncodeToString(raw[33:])
		case RS256:
			j.Kty = "RSA"
			j.N = enc.EncodeToString(k.rsaPub.N.Bytes())
			j.E = enc.EncodeToString(big.NewInt(int64(k.rsaPub.E)).Bytes())
		default:
			continue
		}
		out.Keys = append(out.Keys, j)
	}
	return json.Marshal(out)
}

// ParseJWKS reads a JSON Web Key Set and returns the keys this package can
// verify with, in order. Following RFC 7517 §5, a key it cannot use is
// skipped and the rest are kept; [ParseJWKSFunc] reports the skipped ones.
// It returns an error wrapping [ErrJWKS] for a document that is not a key
// set, and [ErrNoUsableKeys] for a set with keys of which none is usable.
// An empty set returns no keys and no error.
//
// Kids may repeat across keys of different algorithms (RFC 7517 §4.5);
// [RemoteKeySet] tells them apart by the token's alg, while a [KeyRing]
// refuses a repeated kid. A kid repeated on a second key of the same
// algorithm is skipped: the first key wins.
func ParseJWKS(data []byte) ([]*Key, error) { return ParseJWKSFunc(data, nil) }

// ParseJWKSFunc is [ParseJWKS], calling onSkip (when not nil) for every key
// it leaves out, in order, before it returns.
func ParseJWKSFunc(data []byte, onSkip func(SkippedKey)) ([]*Key, error) {
	var set jwkSet
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the key set", ErrJWKS)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: no keys array", ErrJWKS)
	}
	type kidAlg struct {
		kid string
		alg Algorithm
	}
	seen := map[kidAlg]bool{}
	var keys []*Key
	var first *SkippedKey
	for i, raw := range set.Keys {
		k, skip := readJWK(raw)
		if k != nil && seen[kidAlg{k.id, k.alg}] {
			k, skip.Err = nil, fmt.Errorf("%w: kid %q repeated for %s; the first key is kept", ErrKey, k.id, k.alg)
		}
		if k == nil {
			skip.Index = i
			if first == nil {
				first = &skip
			}
			if onSkip != nil {
				onSkip(skip)
			}
			continue
		}
		seen[kidAlg{k.id, k.alg}] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 && first != nil {
		return nil, fmt.Errorf("%w: %d keys skipped, the first because %v", ErrNoUsableKeys, len(set.Keys), first.Err)
	}
	return keys, nil
}

// readJWK returns the key raw holds, or nil and why it is skipped.
func readJWK(raw json.RawMessage) (*Key, SkippedKey) {
	var j jwk
	if err := json.Unmarshal(raw, &j); err != nil {
		// Keep what can be read, for the report.
		var partial struct{ Kty, Kid any }
		_ = json.Unmarshal(raw, &partial)
		kty, _ := partial.Kty.(string)
		kid, _ := partial.Kid.(string)
		return nil, SkippedKey{ID: kid, Type: kty, Err: fmt.Errorf("%w: not a JWK: %v", ErrKey, err)}
	}
	skip := SkippedKey{ID: j.Kid, Type: j.Kty}
	if j.D != "" || j.K != "" {
		skip.Err = fmt.Errorf("%w: the key set publishes its private or secret material, so anyone can sign with it", ErrKey)
		return nil, skip
	}
	if err := usableKind(j); err != nil {
		skip.Err = err
		return nil, skip
	}
	if err := checkVerifyID(j.Kid); err != nil {
		skip.Err = fmt.Errorf("%w: %v", ErrKeyUnsupported, err)
		return nil, skip
	}
	k, err := parseJWK(j)
	if err != nil {
		skip.Err = fmt.Errorf("%w: %v", ErrKey, err)
		return nil, skip
	}
	return k, skip
}

// usableKind refuses keys of a kind this package never verifies with.
func usableKind(j jwk) error {
	if j.Use != "" && j.Use != "sig" {
		return fmt.Errorf("%w: use %q", ErrKeyUnsupported, j.Use)
	}
	if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
		return fmt.Errorf("%w: key_ops without verify", ErrKeyUnsupported)
	}
	switch {
	case j.Kty == "oct":
		return fmt.Errorf("%w: symmetric keys are never taken from a key set", ErrKeyUnsupported)
	case j.Kty == "OKP" && j.Crv == "Ed25519" && (j.Alg == "" || j.Alg == string(EdDSA)),
		j.Kty == "EC" && j.Crv == "P-256" && (j.Alg == "" || j.Alg == string(ES256)),
		j.Kty == "RSA" && (j.Alg == "" || j.Alg == string(RS256)):
		return nil
	}
	return fmt.Errorf("%w: kty %q, crv %q, alg %q", ErrKeyUnsupported, j.Kty, j.Crv, j.Alg)
}

// parseJWK builds the key of j, whose kind usableKind accepted.
func parseJWK(j jwk) (*Key, error) {
	switch j.Kty {
	case "OKP":
		x, err := decodeBase64URL(j.X)
		if err != nil {
			return nil, errors.New("bad x")
		}
		return NewEd25519Public(j.Kid, x)
	case "EC":
		x, errX := decodeBase64URL(j.X)
		y, errY := decodeBase64URL(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad x or y")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, errors.New("point not on P-256")
		}
		return NewES256Public(j.Kid, pub)
	default: // RSA
		n, errN := decodeBase64URL(j.N)
		e, errE := decodeBase64URL(j.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 || len(n) > 1024 {
			return nil, errors.New("bad n or e")
		}
		return NewRS256Public(j.Kid, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())})
	}
}

// JWKSHandler serves the public keys of ring as a JSON Web Key Set, for
// /.well-known/jwks.json. maxAge sets Cache-Control (5m when zero): long
// enough to spare the issuer, short enough that a newly added key reaches
// verifiers before it signs anything, if keys are added maxAge ahead.
func JWKSHandler(ring *KeyRing, maxAge time.Duration) http.Handler {
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	cache := "public, max-age=" + strconv.Itoa(int(maxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := MarshalJWKS(ring.Keys())
		if err != nil {
			http.Error(w, "key set unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", cache)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

// RemoteConfig configures a [RemoteKeySet].
type RemoteConfig struct {
	// URL of the key set; required.
	URL string
	// Client fetches the set; a client with a 10s timeout when nil.
	Client *http.Client
	// RefreshInterval is how often the set is fetched in the background;
	// 15m when zero.
	RefreshInterval time.Duration
	// MinRefreshInterval limits fetches caused by an unknown kid to one per
	// interval, so forged kids cannot make the verifier hammer the issuer;
	// 30s when zero.
	MinRefreshInterval time.Duration
	// MaxBytes bounds the response; 256 KiB when zero.
	MaxBytes int64
	// OnError is told about failed background fetches; nil ignores them.
	OnError func(error)
	// OnSkippedKey is told about every key of a fetched set that is left
	// out (see [ParseJWKSFunc]), on every fetch; nil ignores them. The
	// other keys of the set are served.
	OnSkippedKey func(SkippedKey)
}

// RemoteKeySet is a [KeySource] over a JWKS URL: fetched on first use,
// refreshed in the background, and refetched (at most once per
// MinRefreshInterval) when a token names an unknown kid. It keeps serving
// the last good set when a fetch fails. Close stops the background refresh.
type RemoteKeySet struct {
	cfg    RemoteConfig
	fetch  chan struct{} // one fetch at a time; a semaphore that honours ctx
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.RWMutex
	keys      map[string][]*Key // by kid; several only for different algorithms
	lastFetch time.Time
	lastErr   error
}

// NewRemoteKeySet starts a key set for cfg; its background refresh runs
// until Close.
func NewRemoteKeySet(cfg RemoteConfig) (*RemoteKeySet, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("%w: URL is required", ErrConfig)
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
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 256 << 10
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &RemoteKeySet{cfg: cfg, fetch: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go s.refreshLoop(ctx)
	return s, nil
}

// Close stops the background refresh and waits for it to end.
func (s *RemoteKeySet) Close() error {
	s.cancel()
	<-s.done
	return nil
}

func (s *RemoteKeySet) refreshLoop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && s.cfg.OnError != nil {
				s.cfg.OnError(err)
			}
		}
	}
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
	stale := time.Since(s.lastFetch) >= s.cfg.MinRefreshInterval
	s.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	if !stale {
		return nil, ErrUnknownKey
	}
	if err := s.refreshIfStale(ctx); err != nil {
		return nil, fmt.Errorf("%w: key set unavailable: %v", ErrUnknownKey, err)
	}
	s.mu.RLock()
	k = pick(s.keys[id], alg)
	s.mu.RUnlock()
	if k == nil {
		return nil, ErrUnknownKey
	}
	return k, nil
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

// refreshIfStale fetches unless another caller fetched while this one
// waited its turn.
func (s *RemoteKeySet) refreshIfStale(ctx context.Context) error {
	select {
	case s.fetch <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	defer func() { <-s.fetch }()
	s.mu.RLock()
	fresh := time.Since(s.lastFetch) < s.cfg.MinRefreshInterval
	s.mu.RUnlock()
	if fresh {
		return nil
	}
	return s.fetchLocked(ctx)
}

// Refresh fetches the key set now.
func (s *RemoteKeySet) Refresh(ctx context.Context) error {
	select {
	case s.fetch <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	defer func() { <-s.fetch }()
	return s.fetchLocked(ctx)
}

func (s *RemoteKeySet) fetchLocked(ctx context.Context) error {
	keys, err := s.get(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	// A failed fetch also counts, so an unreachable issuer is not retried on
	// every request.
	s.lastFetch = time.Now()
	s.lastErr = err
	if err != nil {
		return err
	}
	m := make(map[string][]*Key, len(keys))
	for _, k := range keys {
		m[k.id] = append(m[k.id], k)
	}
	s.keys = m
	return nil
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
	return ParseJWKSFunc(body, s.cfg.OnSkippedKey)
}
