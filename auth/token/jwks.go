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
	"strconv"
	"sync"
	"time"
)

// ErrJWKS is wrapped by errors about a malformed JSON Web Key Set.
var ErrJWKS = errors.New("token: invalid JWKS")

// jwk is one JSON Web Key (RFC 7517) as read or written.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	// Private or symmetric material must never be published; reading a key
	// set that has it is an error.
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

// ParseJWKS reads a JSON Web Key Set. Keys this package cannot verify with
// (other key types or curves, or keys for encryption) are skipped; a
// malformed set, a usable key without a kid, a repeated kid, or a key with
// private material is an error wrapping [ErrJWKS].
func ParseJWKS(data []byte) ([]*Key, error) {
	var set jwkSet
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the key set", ErrJWKS)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: no keys member", ErrJWKS)
	}
	seen := map[string]bool{}
	var keys []*Key
	for i, raw := range set.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("%w: key %d: %v", ErrJWKS, i, err)
		}
		if j.D != "" || j.K != "" {
			return nil, fmt.Errorf("%w: key %d carries private or secret material", ErrJWKS, i)
		}
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		k, err := parseJWK(j)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d (%q): %v", ErrJWKS, i, j.Kid, err)
		}
		if k == nil {
			continue
		}
		if seen[k.id] {
			return nil, fmt.Errorf("%w: kid %q appears twice", ErrJWKS, k.id)
		}
		seen[k.id] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// parseJWK returns nil, nil for a key of a kind it does not use.
func parseJWK(j jwk) (*Key, error) {
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519" && (j.Alg == "" || j.Alg == string(EdDSA)):
		x, err := decodeBase64URL(j.X)
		if err != nil {
			return nil, errors.New("bad x")
		}
		return NewEd25519Public(j.Kid, x)
	case j.Kty == "EC" && j.Crv == "P-256" && (j.Alg == "" || j.Alg == string(ES256)):
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
	case j.Kty == "RSA" && (j.Alg == "" || j.Alg == string(RS256)):
		n, errN := decodeBase64URL(j.N)
		e, errE := decodeBase64URL(j.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 || len(n) > 1024 {
			return nil, errors.New("bad n or e")
		}
		return NewRS256Public(j.Kid, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())})
	}
	return nil, nil
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
	keys      map[string]*Key
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

// Key implements [KeySource].
func (s *RemoteKeySet) Key(ctx context.Context, id string) (*Key, error) {
	s.mu.RLock()
	k, ok := s.keys[id]
	stale := time.Since(s.lastFetch) >= s.cfg.MinRefreshInterval
	s.mu.RUnlock()
	if ok {
		return k, nil
	}
	if !stale {
		return nil, ErrUnknownKey
	}
	if err := s.refreshIfStale(ctx); err != nil {
		return nil, fmt.Errorf("%w: key set unavailable: %v", ErrUnknownKey, err)
	}
	s.mu.RLock()
	k, ok = s.keys[id]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrUnknownKey
	}
	return k, nil
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
	m := make(map[string]*Key, len(keys))
	for _, k := range keys {
		m[k.id] = k
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
	return ParseJWKS(body)
}
