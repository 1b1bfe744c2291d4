package pgsession_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/auth/session/pgsession"
	"github.com/bedrock-go/bedrock/auth/session/sessiontest"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

func newStore(t testing.TB, cfg pgsession.Config) (*pgsession.Store, *pgxpool.Pool) {
	t.Helper()
	pool := testenv.Postgres(t)
	s, err := pgsession.New(pool, cfg)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s, pool
}

func TestStore_ConformanceOnRealPostgres(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		s, _ := newStore(t, pgsession.Config{})
		return s
	})
}

func TestMigrate_IsIdempotentAndHonoursTheTableNames(t *testing.T) {
	s, pool := newStore(t, pgsession.Config{Prefix: "Auth Sessions_"})
	ctx := context.Background()
	require.NoError(t, s.Migrate(ctx), "a second run changes nothing")
	var tables []string
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"Auth Sessions_families", "Auth Sessions_tokens"}, tables)

	var indexes []string
	rows, err = pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		indexes = append(indexes, n)
	}
	assert.True(t, slices.Contains(indexes, "Auth Sessions_tokens_family_idx"), "%v", indexes)
	assert.True(t, slices.Contains(indexes, "Auth Sessions_tokens_pkey"), "the hash is the primary key: %v", indexes)

	m, err := session.New(s, session.Config{})
	require.NoError(t, err)
	login, err := m.Issue(ctx, "u")
	require.NoError(t, err)
	_, err = m.Rotate(ctx, login.Token)
	assert.NoError(t, err)
}

func TestStore_UnreachablePostgresFailsClosed(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=1")
	require.NoError(t, err)
	defer pool.Close()
	s, err := pgsession.New(pool, pgsession.Config{})
	require.NoError(t, err)
	m, err := session.New(s, session.Config{})
	require.NoError(t, err)
	_, err = m.Issue(context.Background(), "u")
	assert.Error(t, err)
	_, err = m.Rotate(context.Background(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	assert.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrInvalidToken, "a store outage is not a bad token")
}

func TestNew_RejectsNilDB(t *testing.T) {
	_, err := pgsession.New(nil, pgsession.Config{})
	assert.ErrorIs(t, err, pgsession.ErrInvalidConfig)
}

func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	store, _ := pgsession.New(pool, pgsession.Config{Prefix: "example_session_"})
	fmt.Println(len(store.Schema()) > 0)
	// Output: true
}

// BenchmarkRotate measures a refresh against PostgreSQL and reports the
// median and 99th percentile latency.
func BenchmarkRotate(b *testing.B) {
	s, _ := newStore(b, pgsession.Config{})
	m, err := session.New(s, session.Config{})
	require.NoError(b, err)
	ctx := context.Background()
	cur, err := m.Issue(ctx, "u")
	require.NoError(b, err)
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		next, err := m.Rotate(ctx, cur.Token)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		cur = next
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// Instances that start together on an empty database all run Migrate at
// once: every one must succeed.
func TestMigrate_ManyProcessesAtOnce(t *testing.T) {
	pool := testenv.Postgres(t)
	const n = 16
	conns := testenv.Conns(t, pool, n)
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		s, err := pgsession.New(c, pgsession.Config{})
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Migrate(context.Background())
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "process %d", i)
	}
}
