package txn_test

import (
	"context"
	"testing"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/txn"
	"github.com/jackc/pgx/v5"
)

// BenchmarkTxDo measures a transaction with one trivial statement on the
// real PostgreSQL, through txn.Do and through a bare pgx.BeginTxFunc, so
// that the difference is the package's overhead.
func BenchmarkTxDo(b *testing.B) {
	pool := testenv.Postgres(b)
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "SELECT 1")
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "SELECT 1")
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVersionedUpdate(b *testing.B) {
	pool := testenv.Postgres(b)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE docs (id int PRIMARY KEY, title text, version bigint NOT NULL);
		INSERT INTO docs VALUES (1, 'a', 1)`); err != nil {
		b.Fatal(err)
	}
	v, err := txn.NewVersioned(txn.VersionedTable{Table: "docs"})
	if err != nil {
		b.Fatal(err)
	}
	version := int64(1)
	b.ReportAllocs()
	for b.Loop() {
		version, err = v.Update(ctx, pool, 1, version, txn.Set("title", "b"))
		if err != nil {
			b.Fatal(err)
		}
	}
}
