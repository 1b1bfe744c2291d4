package benchmarks

import (
	"context"
	"slices"
	"testing"
	"time"

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

// BenchmarkTxDoInterleaved runs one txn.Do and one pgx.BeginTxFunc per
// iteration, in alternating order, and reports the median latency of each, so that both see
// the same machine load: on a shared machine, separate runs drift by more
// than the overhead being measured. overhead-% is (bedrock-pgx)/pgx of the
// medians.
func BenchmarkTxDoInterleaved(b *testing.B) {
	pool := testenv.Postgres(b)
	ctx := context.Background()
	bedrock := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SELECT 1")
		return err
	}
	bare := func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SELECT 1")
		return err
	}
	runBedrock := func() time.Duration {
		start := time.Now()
		if err := txn.Do(ctx, pool, bedrock); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	runPgx := func() time.Duration {
		start := time.Now()
		if err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{}, bare); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var a, p []time.Duration
	first := false
	b.ReportAllocs()
	for b.Loop() {
		// Alternate which goes first, so that neither always follows the
		// other's connection release.
		first = !first
		if first {
			a = append(a, runBedrock())
			p = append(p, runPgx())
		} else {
			p = append(p, runPgx())
			a = append(a, runBedrock())
		}
	}
	ma, mp := median(a), median(p)
	b.ReportMetric(float64(ma.Nanoseconds()), "bedrock-p50-ns")
	b.ReportMetric(float64(mp.Nanoseconds()), "pgx-p50-ns")
	b.ReportMetric(100*float64(ma-mp)/float64(mp), "overhead-%")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
