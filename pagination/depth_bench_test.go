package pagination_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/pagination"
)

type event struct {
	ID int64
	At time.Time
}

// BenchmarkDepth loads 1,000,000 rows into the local PostgreSQL and reads a
// 20-row page at the start and at depth 500,000, with a keyset cursor and
// with OFFSET. Each operation is the whole request: build the query, run
// it, scan the rows, sign the cursors. Keyset cost should not depend on
// depth; OFFSET reads and discards every skipped row.
func BenchmarkDepth(b *testing.B) {
	const rows, depth, size = 1_000_000, 500_000, 20
	db := testenv.Postgres(b)
	ctx := context.Background()
	start := time.Now()
	_, err := db.Exec(ctx, fmt.Sprintf(`
		CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL, payload text NOT NULL);
		INSERT INTO events SELECT g, '2026-01-01'::timestamptz + (g / 3) * interval '1 millisecond', md5(g::text)
			FROM generate_series(1, %d) g;
		CREATE INDEX events_at_id ON events (at DESC, id DESC);`, rows))
	if err != nil {
		b.Fatal(err)
	}
	// VACUUM sets the visibility map, so that the reads can be index-only
	// as in a table that has settled.
	if _, err := db.Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d rows in %v", rows, time.Since(start).Round(time.Millisecond))

	spec := pagination.MustSpec(pagination.Column{Name: "at", Desc: true}, pagination.Column{Name: "id", Unique: true, Desc: true})
	p := newTestPager(b, spec, 100)
	keys := func(e event) []any { return []any{e.At, e.ID} }
	// The cursor a client would hold after paging to the given depth.
	var boundary event
	if err := db.QueryRow(ctx, "SELECT id, at FROM events ORDER BY at DESC, id DESC OFFSET $1 LIMIT 1", depth-1).
		Scan(&boundary.ID, &boundary.At); err != nil {
		b.Fatal(err)
	}
	q0, _ := p.Query(pagination.Request{Limit: 1})
	first, err := pagination.NewPage(q0, []event{boundary, boundary}, keys)
	if err != nil {
		b.Fatal(err)
	}
	deep := first.NextCursor

	keyset := func(cursor string) func(b *testing.B) {
		return func(b *testing.B) {
			q, err := p.Query(pagination.Request{Limit: size, Cursor: cursor})
			if err != nil {
				b.Fatal(err)
			}
			report := serverCost(b, db, "SELECT id, at FROM events WHERE "+q.Tail(), q.Args...)
			b.ReportAllocs()
			for b.Loop() {
				benchKeysetPage(b, db, p, pagination.Request{Limit: size, Cursor: cursor}, keys)
			}
			report()
		}
	}
	offset := func(off int) func(b *testing.B) {
		return func(b *testing.B) {
			o, _ := pagination.NewOffset(pagination.OffsetConfig{MaxOffset: rows})
			q, _ := o.Query(pagination.OffsetRequest{Limit: size, Offset: off})
			report := serverCost(b, db, "SELECT id, at FROM events ORDER BY at DESC, id DESC "+q.Clause())
			b.ReportAllocs()
			for b.Loop() {
				q, err := o.Query(pagination.OffsetRequest{Limit: size, Offset: off})
				if err != nil {
					b.Fatal(err)
				}
				r, _ := db.Query(ctx, "SELECT id, at FROM events ORDER BY at DESC, id DESC "+q.Clause())
				items, err := pgx.CollectRows(r, pgx.RowToStructByPos[event])
				if err != nil || len(items) != size+1 {
					b.Fatalf("%d rows, %v", len(items), err)
				}
				_ = pagination.NewOffsetPage(q, items)
			}
			report()
		}
	}
	b.Run("keyset/page1", keyset(""))
	b.Run("keyset/depth500k", keyset(deep))
	b.Run("offset/page1", offset(0))
	b.Run("offset/depth500k", offset(depth))
}

func benchKeysetPage(b *testing.B, db *pgxpool.Pool, p *pagination.Pager, req pagination.Request, keys func(event) []any) {
	q, err := p.Query(req)
	if err != nil {
		b.Fatal(err)
	}
	r, _ := db.Query(context.Background(), "SELECT id, at FROM events WHERE "+q.Tail(), q.Args...)
	items, err := pgx.CollectRows(r, pgx.RowToStructByPos[event])
	if err != nil || len(items) != q.Limit {
		b.Fatalf("%d rows, %v", len(items), err)
	}
	if _, err := pagination.NewPage(q, items, keys); err != nil {
		b.Fatal(err)
	}
}

// serverCost measures, and the returned func reports, what PostgreSQL itself spends on the statement:
// the median execution time of 9 EXPLAIN ANALYZE runs ("pg-exec-µs") and
// the buffers it touches ("pg-buffers"). Both are measured inside the
// server, so they hold even when the client competes for CPU; buffers do
// not depend on timing at all.
func serverCost(b *testing.B, db *pgxpool.Pool, sql string, args ...any) (report func()) {
	b.Helper()
	var times []float64
	var buffers int
	for range 9 {
		var raw []byte
		if err := db.QueryRow(context.Background(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+sql, args...).Scan(&raw); err != nil {
			b.Fatal(err)
		}
		var out []struct {
			Plan struct {
				Hit  int `json:"Shared Hit Blocks"`
				Read int `json:"Shared Read Blocks"`
			}
			ExecutionTime float64 `json:"Execution Time"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			b.Fatal(err)
		}
		times = append(times, out[0].ExecutionTime)
		buffers = out[0].Plan.Hit + out[0].Plan.Read
	}
	slices.Sort(times)
	return func() {
		b.ReportMetric(times[len(times)/2]*1000, "pg-exec-µs")
		b.ReportMetric(float64(buffers), "pg-buffers")
	}
}
