package benchmarks

import (
	"context"
	"testing"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/txn"
	"github.com/jackc/pgx/v5"
)

// BenchmarkTxDo runs one transaction with a trivial statement on the local
// PostgreSQL, through txn.Do (retries armed, context-carried transaction)
// and through pgx.BeginTxFunc, the bare driver helper it replaces.
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

// BenchmarkTxDoSerializable is BenchmarkTxDo at SERIALIZABLE, the level at
// which the retries matter.
func BenchmarkTxDoSerializable(b *testing.B) {
	pool := testenv.Postgres(b)
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "SELECT 1")
				return err
			}, txn.Serializable)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "SELECT 1")
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
