package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/auth"
)

// Record is what a store keeps about a key: never the key itself.
type Record struct {
	ID         string
	Prefix     string
	Hash       [32]byte // SHA-256 of the secret
	Name       string   // a label chosen by the owner ("CI deploys")
	Owner      string   // the subject the key acts as
	Scopes     []string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first use
	ExpiresAt  time.Time // zero: never
	RevokedAt  time.Time // zero: not revoked
}

// Store keeps key records. Implementations must be safe for concurrent use.
type Store interface {
	// Create adds rec; its ID is new.
	Create(ctx context.Context, rec Record) error
	// Get returns the record with id, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)
	// Update applies fn to the record with id and saves the result.
	Update(ctx context.Context, id string, fn func(*Record)) error
}

// Config configures [Keys].
type Config struct {
	// Prefix of every key, e.g. "bk_live"; required.
	Prefix string
	// TouchInterval is how stale LastUsedAt may get before a successful
	// authentication writes it again; 1m when zero. It keeps a busy key from
	// turning every request into a write.
	TouchInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Keys issues and authenticates API keys over a [Store]. Most callers want
// [Keys.Authenticator] in their auth.Middleware, and [Keys.Issue] and
// [Keys.Revoke] behind the endpoints that manage keys; [Keys.Authenticate]
// checks one key outside HTTP. It is safe for concurrent use.
type Keys struct {
	store Store
	cfg   Config
}

// ErrInvalidConfig is wrapped by every error [New] returns for a bad
// Config.
var ErrInvalidConfig = errors.New("apikey: invalid config")

// New returns Keys over store, or an error wrapping [ErrInvalidConfig].
func New(store Store, cfg Config) (*Keys, error) {
	switch {
	case store == nil:
		return nil, fmt.Errorf("%w: nil Store", ErrInvalidConfig)
	case !validPrefix(cfg.Prefix):
		return nil, fmt.Errorf("%w: Prefix %q must be %s", ErrInvalidConfig, cfg.Prefix, prefixRule)
	case cfg.TouchInterval < 0:
		return nil, fmt.Errorf("%w: negative TouchInterval %v", ErrInvalidConfig, cfg.TouchInterval)
	}
	if cfg.TouchInterval == 0 {
		cfg.TouchInterval = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Keys{store: store, cfg: cfg}, nil
}

// IssueRequest describes a new key.
type IssueRequest struct {
	Owner  string
	Name   string
	Scopes []string
	TTL    time.Duration // 0: never expires
}

// Issue creates a key and returns its token, to be shown to the owner once,
// and its record.
func (k *Keys) Issue(ctx context.Context, req IssueRequest) (string, Record, error) {
	if req.Owner == "" {
		return "", Record{}, errors.New("apikey: owner is required")
	}
	token, p, err := Generate(k.cfg.Prefix)
	if err != nil {
		return "", Record{}, err
	}
	now := k.cfg.Now()
	rec := Record{
		ID: p.ID, Prefix: p.Prefix, Hash: p.Hash(), Name: req.Name, Owner: req.Owner,
		Scopes: slices.Clone(req.Scopes), CreatedAt: now,
	}
	if req.TTL > 0 {
		rec.ExpiresAt = now.Add(req.TTL)
	}
	if err := k.store.Create(ctx, rec); err != nil {
		return "", Record{}, fmt.Errorf("apikey: create: %w", err)
	}
	return token, rec, nil
}

// Authenticate checks token and returns its record. Errors wrap one of the
// package's sentinels (all of which wrap auth.ErrInvalidCredential), or are
// the store's error.
func (k *Keys) Authenticate(ctx context.Context, token string) (Record, error) {
	p, err := Parse(token, k.cfg.Prefix)
	if err != nil {
		return Record{}, err
	}
	rec, err := k.store.Get(ctx, p.ID)
	if errors.Is(err, ErrNotFound) {
		// Spend what a real comparison spends, so that timing does not say
		// whether the id exists.
		var zero [32]byte
		Verify(p, &Record{Hash: zero}, time.Time{})
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("apikey: get: %w", err)
	}
	now := k.cfg.Now()
	if err := Verify(p, &rec, now); err != nil {
		return Record{}, err
	}
	if now.Sub(rec.LastUsedAt) >= k.cfg.TouchInterval {
		rec.LastUsedAt = now
		if err := k.store.Update(ctx, rec.ID, func(r *Record) { r.LastUsedAt = now }); err != nil {
			return Record{}, fmt.Errorf("apikey: touch: %w", err)
		}
	}
	return rec, nil
}

// Revoke marks the key with id revoked.
func (k *Keys) Revoke(ctx context.Context, id string) error {
	now := k.cfg.Now()
	return k.store.Update(ctx, id, func(r *Record) {
		if r.RevokedAt.IsZero() {
			r.RevokedAt = now
		}
	})
}

// Verify checks a parsed key against its record at time now: the secret's
// hash (in constant time), revocation and expiry. It allocates nothing.
func Verify(p Parsed, rec *Record, now time.Time) error {
	h := p.Hash()
	if subtle.ConstantTimeCompare(h[:], rec.Hash[:]) != 1 || p.ID != rec.ID || p.Prefix != rec.Prefix {
		return ErrMismatch
	}
	if !rec.RevokedAt.IsZero() {
		return ErrRevoked
	}
	if !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt) {
		return ErrExpired
	}
	return nil
}

// MemoryStore is a [Store] in process memory, for tests and single-process
// services. The zero value is ready to use: hand it to [New], which calls
// its Store methods; [MemoryStore.List] serves an owner's key listing.
type MemoryStore struct {
	mu   sync.RWMutex
	recs map[string]Record
}

// Create implements [Store].
func (s *MemoryStore) Create(_ context.Context, rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = make(map[string]Record)
	}
	if _, ok := s.recs[rec.ID]; ok {
		return fmt.Errorf("apikey: id %s exists", rec.ID)
	}
	rec.Scopes = slices.Clone(rec.Scopes)
	s.recs[rec.ID] = rec
	return nil
}

// Get implements [Store].
func (s *MemoryStore) Get(_ context.Context, id string) (Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.recs[id]
	if !ok {
		return Record{}, ErrNotFound
	}
	rec.Scopes = slices.Clone(rec.Scopes)
	return rec, nil
}

// Update implements [Store].
func (s *MemoryStore) Update(_ context.Context, id string, fn func(*Record)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recs[id]
	if !ok {
		return ErrNotFound
	}
	fn(&rec)
	rec.ID = id
	s.recs[id] = rec
	return nil
}

// List returns the records of owner, newest first.
func (s *MemoryStore) List(_ context.Context, owner string) []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Record
	for _, r := range s.recs {
		if r.Owner == owner {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// Authenticator returns an [auth.Authenticator] for keys presented as
// "Authorization: Bearer <key>" (when the token has this prefix) or in the
// X-API-Key header. The principal's scopes are the key's.
func (k *Keys) Authenticator() auth.Authenticator {
	return auth.AuthenticatorFunc(func(ctx context.Context, r *http.Request) (auth.Principal, error) {
		tok, ok := auth.BearerToken(r)
		if !ok || !strings.HasPrefix(tok, k.cfg.Prefix+"_") {
			vals := r.Header.Values("X-API-Key")
			if len(vals) != 1 {
				return auth.Principal{}, auth.ErrNoCredential
			}
			tok = vals[0]
		}
		rec, err := k.Authenticate(ctx, tok)
		if err != nil {
			return auth.Principal{}, err
		}
		return auth.Principal{Subject: rec.Owner, Method: auth.MethodAPIKey, CredentialID: rec.ID,
			Scopes: slices.Clone(rec.Scopes), AuthenticatedAt: k.cfg.Now()}, nil
	})
}

// IsKey reports whether token has the shape of one of these keys, so that a
// token authenticator can leave it alone.
func (k *Keys) IsKey(token string) bool { return strings.HasPrefix(token, k.cfg.Prefix+"_") }
