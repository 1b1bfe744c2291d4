package pgsession

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/internal/pgschema"
)

//go:embed schema.sql
var schemaSQL string

// DB is what the store needs of a pool: *pgxpool.Pool, *pgx.Conn and pgx.Tx
// all satisfy it.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Config configures a [Store].
type Config struct {
	// Table name prefix: tables are <Prefix>families and <Prefix>tokens;
	// "session_" when empty. It may be schema-qualified ("auth.session_").
	Prefix string
}

// Store is a session.Store on PostgreSQL. Most callers run [Store.Migrate]
// once (or apply [Store.Schema] with their own migration tool) and hand
// the Store to session.New, which calls the rest. It is safe for
// concurrent use.
type Store struct {
	db               DB
	families, tokens string // quoted identifiers
	famName, tokName string // unquoted, for index names
	q                queries
}

type queries struct {
	create, get, rotate, revokeFamily, revokeSubject, deleteExpired string
}

var _ session.Store = (*Store)(nil)

// ErrInvalidConfig is wrapped by every error [New] returns for a bad
// Config.
var ErrInvalidConfig = errors.New("pgsession: invalid config")

// New returns a store on db, or an error wrapping [ErrInvalidConfig].
func New(db DB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil DB", ErrInvalidConfig)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "session_"
	}
	schema, prefix := "", cfg.Prefix
	if i := strings.LastIndexByte(prefix, '.'); i >= 0 {
		schema, prefix = prefix[:i], prefix[i+1:]
	}
	quote := func(name string) string {
		if schema == "" {
			return pgx.Identifier{name}.Sanitize()
		}
		return pgx.Identifier{schema, name}.Sanitize()
	}
	s := &Store{db: db, families: quote(prefix + "families"), tokens: quote(prefix + "tokens"),
		famName: prefix + "families", tokName: prefix + "tokens"}
	f, t := s.families, s.tokens
	s.q = queries{
		create: `WITH fam AS (
		           INSERT INTO ` + f + ` (id, subject, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id)
		         INSERT INTO ` + t + ` (hash, family_id, issued_at, expires_at) SELECT $5, id, $3, $6 FROM fam`,
		get: `SELECT t.family_id, t.issued_at, t.expires_at, t.used_at, t.successor,
		             f.subject, f.created_at, f.expires_at, f.revoked_at
		      FROM ` + t + ` t JOIN ` + f + ` f ON f.id = t.family_id WHERE t.hash = $1`,
		rotate: `WITH used AS (
		           UPDATE ` + t + ` SET used_at = $3, successor = $2
		           WHERE hash = $1 AND used_at IS NULL
		             AND family_id IN (SELECT id FROM ` + f + ` WHERE revoked_at IS NULL)
		           RETURNING family_id)
		         INSERT INTO ` + t + ` (hash, family_id, issued_at, expires_at)
		         SELECT $2, family_id, $3, $4 FROM used`,
		revokeFamily:  `UPDATE ` + f + ` SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`,
		revokeSubject: `UPDATE ` + f + ` SET revoked_at = $2 WHERE subject = $1 AND revoked_at IS NULL`,
		deleteExpired: `DELETE FROM ` + f + ` WHERE id IN (
		                  SELECT id FROM ` + f + `
		                  WHERE LEAST(expires_at, COALESCE(revoked_at, 'infinity')) < $1 LIMIT $2)`,
	}
	return s, nil
}

// Schema returns the DDL for this store's table names.
func (s *Store) Schema() string {
	index := func(name string) string { return pgx.Identifier{name}.Sanitize() }
	r := strings.NewReplacer(
		"session_families_subject_idx", index(s.famName+"_subject_idx"),
		"session_families_end_idx", index(s.famName+"_end_idx"),
		"session_tokens_family_idx", index(s.tokName+"_family_idx"),
		"session_families", s.families,
		"session_tokens", s.tokens,
	)
	return r.Replace(schemaSQL)
}

// Migrate creates the tables and indexes if they do not exist. It is
// idempotent, and safe to run from many processes at once (instances that
// start together): it holds a transaction-level advisory lock, keyed by the
// schema, while it applies the schema, so concurrent runs apply one after
// another.
func (s *Store) Migrate(ctx context.Context) error {
	// One Exec without arguments is one simple-protocol query: its
	// statements run in one implicit transaction, which the lock spans.
	if _, err := s.db.Exec(ctx, pgschema.MigrateLock("pgsession")+s.Schema()); err != nil {
		return fmt.Errorf("pgsession: migrate: %w", err)
	}
	return nil
}

// Create implements [session.Store].
func (s *Store) Create(ctx context.Context, f session.Family, first session.Token) error {
	// One statement: both rows or neither.
	_, err := s.db.Exec(ctx, s.q.create, f.ID, f.Subject, first.IssuedAt, f.ExpiresAt, first.Hash[:], first.ExpiresAt)
	if err != nil {
		return fmt.Errorf("pgsession: create: %w", err)
	}
	return nil
}

// Get implements [session.Store].
func (s *Store) Get(ctx context.Context, h session.Hash) (session.Token, session.Family, error) {
	t := session.Token{Hash: h}
	var f session.Family
	var used, revoked *time.Time
	var successor []byte
	err := s.db.QueryRow(ctx, s.q.get, h[:]).Scan(&t.FamilyID, &t.IssuedAt, &t.ExpiresAt, &used, &successor,
		&f.Subject, &f.CreatedAt, &f.ExpiresAt, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return session.Token{}, session.Family{}, session.ErrNotFound
	}
	if err != nil {
		return session.Token{}, session.Family{}, fmt.Errorf("pgsession: get: %w", err)
	}
	f.ID = t.FamilyID
	if used != nil {
		t.UsedAt = *used
	}
	if revoked != nil {
		f.RevokedAt = *revoked
	}
	copy(t.Successor[:], successor)
	return t, f, nil
}

// Rotate implements [session.Store].
func (s *Store) Rotate(ctx context.Context, old session.Hash, next session.Token) (bool, error) {
	tag, err := s.db.Exec(ctx, s.q.rotate, old[:], next.Hash[:], next.IssuedAt, next.ExpiresAt)
	if err != nil {
		return false, fmt.Errorf("pgsession: rotate: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RevokeFamily implements [session.Store].
func (s *Store) RevokeFamily(ctx context.Context, id string, at time.Time) error {
	tag, err := s.db.Exec(ctx, s.q.revokeFamily, id, at)
	if err != nil {
		return fmt.Errorf("pgsession: revoke family: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return session.ErrNotFound
	}
	return nil
}

// RevokeSubject implements [session.Store].
func (s *Store) RevokeSubject(ctx context.Context, subject string, at time.Time) (int, error) {
	tag, err := s.db.Exec(ctx, s.q.revokeSubject, subject, at)
	if err != nil {
		return 0, fmt.Errorf("pgsession: revoke subject: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpired implements [session.Store].
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.db.Exec(ctx, s.q.deleteExpired, before, limit)
	if err != nil {
		return 0, fmt.Errorf("pgsession: delete expired: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
