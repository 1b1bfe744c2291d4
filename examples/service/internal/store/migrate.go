// Package store is what the service's domains share about PostgreSQL: the
// schema, migrated at start, the errors their queries return, and the
// parsing of ids. Each domain package (users, apikeys, products, orders)
// holds its own queries.
package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bedrock-go/bedrock/txn"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the embedded migrations that have not run yet, in name
// order, then each of also, all in one transaction under an advisory lock:
// instances that start together apply them one after another, so each
// migration runs once and the later instances find the schema complete.
// also migrates what the service's libraries keep in the same database
// (the refresh-token sessions, the outbox); their Migrate is idempotent,
// and runs on every start.
func Migrate(ctx context.Context, db txn.Beginner, also ...func(ctx context.Context, tx pgx.Tx) error) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return txn.Do(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		if err := txn.XactLock(ctx, tx, txn.Key("examples/service migrations")); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		for _, name := range names {
			id := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, id).Scan(&done); err != nil {
				return err
			}
			if done {
				continue
			}
			sql, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("migration %s: %w", id, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, id); err != nil {
				return err
			}
		}
		for _, f := range also {
			if err := f(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
}
