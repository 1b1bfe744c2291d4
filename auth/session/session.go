package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/bedrock-go/bedrock/auth"
)

// Errors. All but ErrNotFound and ErrInvalidConfig wrap
// [auth.ErrInvalidCredential].
var (
	ErrInvalidToken  = fmt.Errorf("session: invalid refresh token: %w", auth.ErrInvalidCredential)
	ErrTokenReused   = fmt.Errorf("session: refresh token reused; family revoked: %w", auth.ErrInvalidCredential)
	ErrExpired       = fmt.Errorf("session: refresh token expired: %w", auth.ErrInvalidCredential)
	ErrFamilyRevoked = fmt.Errorf("session: session revoked: %w", auth.ErrInvalidCredential)
	// ErrNotFound is returned by a Store for an unknown token or family.
	ErrNotFound = errors.New("session: not found")
	// ErrInvalidConfig is wrapped by every error [New] returns for a bad
	// Config.
	ErrInvalidConfig = errors.New("session: invalid config")
)

// Hash is the SHA-256 of a refresh token: what a store keeps.
type Hash [sha256.Size]byte

// Family is one login: the chain of tokens rotated from it.
type Family struct {
	ID        string
	Subject   string
	CreatedAt time.Time
	ExpiresAt time.Time // the absolute end of the family
	RevokedAt time.Time // zero while active
}

// Token is a stored refresh token.
type Token struct {
	Hash      Hash
	FamilyID  string
	IssuedAt  time.Time
	ExpiresAt time.Time // the idle timeout
	UsedAt    time.Time // zero until rotated
	Successor Hash      // set when rotated
}

// Store keeps families and tokens. Implementations must be safe for
// concurrent use, and Rotate must be atomic.
type Store interface {
	// Create stores a new family with its first token.
	Create(ctx context.Context, f Family, first Token) error
	// Get returns a token and its family, or ErrNotFound.
	Get(ctx context.Context, h Hash) (Token, Family, error)
	// Rotate marks old used at next.IssuedAt with next as its successor and
	// stores next, only if old is unused and its family not revoked. It
	// reports whether it did; when it did not, nothing changed.
	Rotate(ctx context.Context, old Hash, next Token) (bool, error)
	// RevokeFamily marks a family revoked at at (keeping an earlier time).
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	// RevokeSubject revokes every active family of subject.
	RevokeSubject(ctx context.Context, subject string, at time.Time) (int, error)
	// DeleteExpired removes up to limit families (with their tokens) that
	// ended before before, and returns how many it removed.
	DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error)
}

// Config configures [RefreshTokens].
type Config struct {
	// MaxLifetime is the absolute lifetime of a family; 30 days when zero.
	MaxLifetime time.Duration
	// IdleTimeout is how long a token stays valid unrotated; 7 days when
	// zero, and never past MaxLifetime.
	IdleTimeout time.Duration
	// GraceWindow lets a just-rotated token be presented again within it
	// and get the same successor; off when zero.
	GraceWindow time.Duration
	// Secret derives successors so that a retry in the grace window gets
	// the same one; at least 32 bytes, the same on every instance. Required
	// when GraceWindow is set.
	Secret []byte
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Hooks receives instrumentation callbacks.
	Hooks Hooks
}

// Hooks are the callbacks of [RefreshTokens]. Nil fields are skipped.
type Hooks struct {
	// OnReuse is told of every family that reuse revoked, with its
	// revocation time set, for security alerts: someone presented a
	// refresh token that had already been rotated.
	OnReuse func(ctx context.Context, f Family)
}

// RefreshTokens issues refresh tokens, rotates them with reuse detection
// and revokes them, over a [Store]. Most callers want [RefreshTokens.Issue]
// at login and [RefreshTokens.Rotate] at each refresh; [RefreshTokens.Revoke]
// is logout. It is safe for concurrent use.
type RefreshTokens struct {
	store Store
	cfg   Config
}

// New returns RefreshTokens over store, or an error wrapping
// [ErrInvalidConfig].
func New(store Store, cfg Config) (*RefreshTokens, error) {
	switch {
	case store == nil:
		return nil, fmt.Errorf("%w: nil Store", ErrInvalidConfig)
	case cfg.MaxLifetime < 0 || cfg.IdleTimeout < 0 || cfg.GraceWindow < 0:
		return nil, fmt.Errorf("%w: negative MaxLifetime, IdleTimeout or GraceWindow", ErrInvalidConfig)
	case cfg.GraceWindow > 0 && len(cfg.Secret) < 32:
		return nil, fmt.Errorf("%w: a GraceWindow needs a Secret of at least 32 bytes", ErrInvalidConfig)
	case cfg.GraceWindow > time.Minute:
		return nil, fmt.Errorf("%w: a GraceWindow over a minute defeats reuse detection", ErrInvalidConfig)
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = 30 * 24 * time.Hour
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RefreshTokens{store: store, cfg: cfg}, nil
}

// Session is a refresh token handed to a client.
type Session struct {
	Token     string // the refresh token; show it to the client, never log it
	FamilyID  string
	Subject   string
	ExpiresAt time.Time // when this token expires unless rotated
}

// Issue starts a family for subject (a login) and returns its first token.
func (m *RefreshTokens) Issue(ctx context.Context, subject string) (Session, error) {
	if subject == "" {
		return Session{}, errors.New("session: subject is required")
	}
	now := m.cfg.Now()
	var raw [32]byte
	rand.Read(raw[:])
	tok := encode(raw[:])
	var fid [16]byte
	rand.Read(fid[:])
	f := Family{ID: encode(fid[:]), Subject: subject, CreatedAt: now, ExpiresAt: now.Add(m.cfg.MaxLifetime)}
	t := Token{Hash: hash(tok), FamilyID: f.ID, IssuedAt: now, ExpiresAt: m.idleEnd(now, f)}
	if err := m.store.Create(ctx, f, t); err != nil {
		return Session{}, fmt.Errorf("session: create: %w", err)
	}
	return Session{Token: tok, FamilyID: f.ID, Subject: subject, ExpiresAt: t.ExpiresAt}, nil
}

// Rotate exchanges a refresh token for its successor. It returns
// ErrTokenReused (and revokes the family) when the token was already used
// outside the grace window, ErrExpired, ErrFamilyRevoked or ErrInvalidToken.
func (m *RefreshTokens) Rotate(ctx context.Context, token string) (Session, error) {
	if !wellFormed(token) {
		return Session{}, ErrInvalidToken
	}
	h := hash(token)
	t, f, err := m.get(ctx, h)
	if err != nil {
		return Session{}, err
	}
	now := m.cfg.Now()
	if !f.RevokedAt.IsZero() {
		return Session{}, ErrFamilyRevoked
	}
	if !now.Before(f.ExpiresAt) || !now.Before(t.ExpiresAt) {
		return Session{}, ErrExpired
	}
	if t.UsedAt.IsZero() {
		next := m.successor(token)
		nt := Token{Hash: hash(next), FamilyID: f.ID, IssuedAt: now, ExpiresAt: m.idleEnd(now, f)}
		ok, err := m.store.Rotate(ctx, h, nt)
		if err != nil {
			return Session{}, fmt.Errorf("session: rotate: %w", err)
		}
		if ok {
			return Session{Token: next, FamilyID: f.ID, Subject: f.Subject, ExpiresAt: nt.ExpiresAt}, nil
		}
		// Another request rotated it first: judge this one as a repeat.
		if t, f, err = m.get(ctx, h); err != nil {
			return Session{}, err
		}
		if !f.RevokedAt.IsZero() {
			return Session{}, ErrFamilyRevoked
		}
	}
	return m.repeat(ctx, token, t, f, now)
}

// repeat handles a token that was already used: the grace window's same
// successor, or reuse.
func (m *RefreshTokens) repeat(ctx context.Context, token string, t Token, f Family, now time.Time) (Session, error) {
	if m.cfg.GraceWindow > 0 && now.Sub(t.UsedAt) <= m.cfg.GraceWindow {
		next := m.successor(token)
		if hash(next) == t.Successor {
			st, _, err := m.get(ctx, t.Successor)
			if err == nil && st.UsedAt.IsZero() {
				return Session{Token: next, FamilyID: f.ID, Subject: f.Subject, ExpiresAt: st.ExpiresAt}, nil
			}
		}
	}
	if err := m.store.RevokeFamily(ctx, f.ID, now); err != nil {
		return Session{}, fmt.Errorf("session: revoke after reuse: %w", err)
	}
	if m.cfg.Hooks.OnReuse != nil {
		f.RevokedAt = now
		m.cfg.Hooks.OnReuse(ctx, f)
	}
	return Session{}, ErrTokenReused
}

func (m *RefreshTokens) get(ctx context.Context, h Hash) (Token, Family, error) {
	t, f, err := m.store.Get(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Token{}, Family{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, Family{}, fmt.Errorf("session: get: %w", err)
	}
	return t, f, nil
}

// Revoke ends the family of token (logout). An unknown token is not an
// error: logging out twice is fine.
func (m *RefreshTokens) Revoke(ctx context.Context, token string) error {
	if !wellFormed(token) {
		return nil
	}
	_, f, err := m.get(ctx, hash(token))
	if errors.Is(err, ErrInvalidToken) {
		return nil
	}
	if err != nil {
		return err
	}
	return m.RevokeFamily(ctx, f.ID)
}

// RevokeFamily ends one family.
func (m *RefreshTokens) RevokeFamily(ctx context.Context, familyID string) error {
	if err := m.store.RevokeFamily(ctx, familyID, m.cfg.Now()); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("session: revoke: %w", err)
	}
	return nil
}

// RevokeAllForSubject ends every family of subject (logout everywhere) and
// returns how many were active.
func (m *RefreshTokens) RevokeAllForSubject(ctx context.Context, subject string) (int, error) {
	n, err := m.store.RevokeSubject(ctx, subject, m.cfg.Now())
	if err != nil {
		return 0, fmt.Errorf("session: revoke subject: %w", err)
	}
	return n, nil
}

// Cleanup deletes families that ended (expired, or revoked more than
// MaxLifetime ago) in batches of batch (1000 when zero) until none remain
// or ctx ends, and returns how many it deleted.
func (m *RefreshTokens) Cleanup(ctx context.Context, batch int) (int, error) {
	if batch <= 0 {
		batch = 1000
	}
	total := 0
	for {
		n, err := m.store.DeleteExpired(ctx, m.cfg.Now(), batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("session: cleanup: %w", err)
		}
		if n < batch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

func (m *RefreshTokens) idleEnd(now time.Time, f Family) time.Time {
	end := now.Add(m.cfg.IdleTimeout)
	if end.After(f.ExpiresAt) {
		return f.ExpiresAt
	}
	return end
}

// successor derives the token that follows token. With a secret it is an
// HMAC of the token, so a retry reproduces it; without one it is random.
func (m *RefreshTokens) successor(token string) string {
	if len(m.cfg.Secret) == 0 {
		var raw [32]byte
		rand.Read(raw[:])
		return encode(raw[:])
	}
	mac := hmac.New(sha256.New, m.cfg.Secret)
	mac.Write([]byte("bedrock session successor\x00"))
	mac.Write([]byte(token))
	return encode(mac.Sum(nil))
}

func encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func hash(token string) Hash { return sha256.Sum256([]byte(token)) }

// wellFormed checks the shape of a token before any store is asked.
func wellFormed(token string) bool {
	if len(token) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(token)
	return err == nil
}
