package apikeys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/txn"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// Store is an apikey.Store on PostgreSQL, plus the listing the API needs.
type Store struct{ pool *pgxpool.Pool }

var _ apikey.Store = (*Store)(nil)

// NewStore returns the store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const apiKeyColumns = `id, prefix, hash, name, owner::text, scopes, created_at, last_used_at, expires_at, revoked_at`

// Create implements apikey.Store.
func (s *Store) Create(ctx context.Context, r apikey.Record) error {
	owner, err := store.ParseUserID(r.Owner)
	if err != nil {
		return err
	}
	_, err = txn.QuerierFrom(ctx, s.pool).Exec(ctx,
		`INSERT INTO api_keys (id, prefix, hash, name, owner, scopes, created_at, last_used_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.Prefix, r.Hash[:], r.Name, owner, r.Scopes, r.CreatedAt,
		nullTime(r.LastUsedAt), nullTime(r.ExpiresAt), nullTime(r.RevokedAt))
	return err
}

// Get implements apikey.Store.
func (s *Store) Get(ctx context.Context, id string) (apikey.Record, error) {
	return s.get(ctx, txn.QuerierFrom(ctx, s.pool), id, "")
}

// Update implements apikey.Store: the row is locked while fn runs, so
// concurrent updates (a touch racing a revocation) never lose each other.
func (s *Store) Update(ctx context.Context, id string, fn func(*apikey.Record)) error {
	return txn.Do(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		r, err := s.get(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		fn(&r)
		_, err = tx.Exec(ctx, `UPDATE api_keys SET name = $2, scopes = $3, last_used_at = $4, expires_at = $5, revoked_at = $6
			WHERE id = $1`, id, r.Name, r.Scopes, nullTime(r.LastUsedAt), nullTime(r.ExpiresAt), nullTime(r.RevokedAt))
		return err
	})
}

// List returns the keys of owner, newest first, revoked ones included. An
// owner that is not a user id has none.
func (s *Store) List(ctx context.Context, owner string) ([]apikey.Record, error) {
	uid, err := store.ParseUserID(owner)
	if err != nil {
		return nil, nil
	}
	rows, err := txn.QuerierFrom(ctx, s.pool).Query(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE owner = $1 ORDER BY created_at DESC, id`, uid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []apikey.Record
	for rows.Next() {
		r, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) get(ctx context.Context, q txn.Querier, id, lock string) (apikey.Record, error) {
	if !store.Storable(id) {
		// PostgreSQL would refuse to compare it; no key has such an id.
		return apikey.Record{}, fmt.Errorf("store: api key %q: %w", id, apikey.ErrNotFound)
	}
	r, err := scanAPIKey(q.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return apikey.Record{}, fmt.Errorf("store: api key %q: %w", id, apikey.ErrNotFound)
	}
	return r, err
}

func scanAPIKey(row pgx.Row) (apikey.Record, error) {
	var (
		r                         apikey.Record
		hash                      []byte
		lastUsed, expires, revoke *time.Time
	)
	if err := row.Scan(&r.ID, &r.Prefix, &hash, &r.Name, &r.Owner, &r.Scopes, &r.CreatedAt, &lastUsed, &expires, &revoke); err != nil {
		return apikey.Record{}, err
	}
	if len(hash) != len(r.Hash) {
		return apikey.Record{}, fmt.Errorf("store: api key %q has a %d-byte hash", r.ID, len(hash))
	}
	copy(r.Hash[:], hash)
	r.LastUsedAt, r.ExpiresAt, r.RevokedAt = deref(lastUsed), deref(expires), deref(revoke)
	return r, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
