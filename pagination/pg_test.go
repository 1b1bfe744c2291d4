package pagination_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/pagination"
)

// row is one row of the property-test table: nullable columns with many
// ties (a, b, c), NOT NULL columns with ties (d, e), a UUID and the key.
type row struct {
	ID int64
	A  *int64
	B  *time.Time
	C  *string
	D  int64
	E  time.Time
	U  [16]byte
}

const rowColumns = "id, a, b, c, d, e, u"

func scanRows(rows pgx.Rows) ([]row, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.ID, &x.A, &x.B, &x.C, &x.D, &x.E, &x.U)
		return x, err
	})
}

func (r row) value(col string) any {
	switch col {
	case "id":
		return r.ID
	case "a":
		return r.A
	case "b":
		return r.B
	case "c":
		return r.C
	case "d":
		return r.D
	case "e":
		return r.E
	case "u":
		return r.U
	}
	panic("unknown column " + col)
}

func createTable(t testing.TB, db *pgxpool.Pool) {
	t.Helper()
	_, err := db.Exec(context.Background(), `CREATE TABLE items (
		id bigint PRIMARY KEY,
		a  int,
		b  timestamptz,
		c  text COLLATE "C",
		d  bigint NOT NULL,
		e  timestamptz NOT NULL,
		u  uuid NOT NULL)`)
	require.NoError(t, err)
}

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// randomRow draws from few distinct values so that ties are common, with
// NULLs in a fifth of the nullable cells and microsecond timestamps.
func randomRow(rng *rand.Rand, id int64) row {
	r := row{ID: id, D: rng.Int64N(6), E: base.Add(time.Duration(rng.IntN(5)) * time.Microsecond)}
	for i := range r.U {
		r.U[i] = byte(rng.IntN(256))
	}
	if rng.IntN(5) > 0 {
		a := rng.Int64N(4) - 2
		r.A = &a
	}
	if rng.IntN(5) > 0 {
		b := base.Add(time.Duration(rng.IntN(4)) * time.Microsecond)
		r.B = &b
	}
	if rng.IntN(5) > 0 {
		c := []string{"", "a", "ab", "b", "é"}[rng.IntN(5)]
		r.C = &c
	}
	return r
}

func insertRows(t testing.TB, db *pgxpool.Pool, rows []row) {
	t.Helper()
	_, err := db.CopyFrom(context.Background(), pgx.Identifier{"items"},
		strings.Split(rowColumns, ", "), pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{r.ID, r.A, r.B, r.C, r.D, r.E, r.U}, nil
		}))
	require.NoError(t, err)
}

func randomSpec(rng *rand.Rand) []pagination.Column {
	pool := []pagination.Column{
		{Name: "a", Nullable: true}, {Name: "b", Nullable: true}, {Name: "c", Nullable: true},
		{Name: "d"}, {Name: "e"},
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	cols := pool[:rng.IntN(4)]
	sameDir := rng.IntN(2) == 0 // exercise the row-value form often
	desc := rng.IntN(2) == 0
	out := make([]pagination.Column, 0, len(cols)+1)
	for _, c := range cols {
		c.Desc = desc
		if !sameDir {
			c.Desc = rng.IntN(2) == 0
		}
		c.Nulls = pagination.Nulls(rng.IntN(3))
		out = append(out, c)
	}
	tie := pagination.Column{Name: "id", Unique: true, Desc: desc}
	if !sameDir {
		tie.Desc = rng.IntN(2) == 0
	}
	if rng.IntN(4) == 0 {
		tie.Name = "u" // a UUID tie-breaker; u is unique in practice
	}
	return append(out, tie)
}

// compareRows is the order the spec declares, computed independently of
// the SQL the package writes.
func compareRows(cols []pagination.Column, x, y row) int {
	for _, c := range cols {
		xv, yv := x.value(c.Name), y.value(c.Name)
		xn, yn := isNull(xv), isNull(yv)
		nullsLast := !c.Desc
		if c.Nulls != pagination.NullsDefault {
			nullsLast = c.Nulls == pagination.NullsLast
		}
		switch {
		case xn && yn:
			continue
		case xn != yn:
			if xn == nullsLast {
				return 1
			}
			return -1
		}
		r := compareValues(xv, yv)
		if c.Desc {
			r = -r
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

func isNull(v any) bool {
	switch x := v.(type) {
	case *int64:
		return x == nil
	case *time.Time:
		return x == nil
	case *string:
		return x == nil
	}
	return false
}

func compareValues(x, y any) int {
	switch a := x.(type) {
	case int64:
		return cmp.Compare(a, y.(int64))
	case *int64:
		return cmp.Compare(*a, *y.(*int64))
	case time.Time:
		return a.Compare(y.(time.Time))
	case *time.Time:
		return a.Compare(*y.(*time.Time))
	case *string:
		return strings.Compare(*a, *y.(*string))
	case [16]byte:
		b := y.([16]byte)
		return bytes.Compare(a[:], b[:])
	}
	panic(fmt.Sprintf("compare %T", x))
}

func keysFor(cols []pagination.Column) func(row) []any {
	return func(r row) []any {
		out := make([]any, len(cols))
		for i, c := range cols {
			out[i] = r.value(c.Name)
		}
		return out
	}
}

func newTestPager(t testing.TB, spec *pagination.Spec, maxLimit int) *pagination.Pager {
	t.Helper()
	signer, err := pagination.NewSecretSigner(bytes.Repeat([]byte("k"), 32))
	require.NoError(t, err)
	p, err := pagination.New(pagination.Config{Signer: signer, Sorts: []pagination.Sort{{Name: "s", Spec: spec}},
		MaxLimit: maxLimit, DefaultLimit: min(20, maxLimit)})
	require.NoError(t, err)
	return p
}

// fetch reads one page of items with d >= minD (a filter, to check that
// the caller's own parameters come first).
func fetch(t testing.TB, db *pgxpool.Pool, p *pagination.Pager, req pagination.Request, keys func(row) []any) pagination.Page[row] {
	t.Helper()
	q, err := p.Query(req, int64(-1))
	require.NoError(t, err)
	rs, err := db.Query(context.Background(), "SELECT "+rowColumns+" FROM items WHERE d >= $1 AND "+q.Tail(), q.Args...)
	require.NoError(t, err, "tail: %s", q.Tail())
	items, err := scanRows(rs)
	require.NoError(t, err, "tail: %s", q.Tail())
	page, err := pagination.NewPage(q, items, keys)
	require.NoError(t, err)
	return page
}

func ids(rows []row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func TestKeyset_PropertyWalkVisitsEveryRowOnceInBothDirections(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	createTable(t, db)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 10))
	t.Logf("seed %d", seed)
	data := make([]row, 150)
	for i := range data {
		data[i] = randomRow(rng, int64(i+1))
	}
	insertRows(t, db, data)

	for trial := range 40 {
		cols := randomSpec(rng)
		size := 1 + rng.IntN(25)
		name := fmt.Sprintf("%d/%s/size%d", trial, describe(cols), size)
		t.Run(name, func(t *testing.T) {
			spec, err := pagination.NewSpec(cols...)
			require.NoError(t, err)
			want := slices.Clone(data)
			slices.SortStableFunc(want, func(x, y row) int { return compareRows(cols, x, y) })
			p := newTestPager(t, spec, 100)
			keys := keysFor(cols)

			// Forward from the first page.
			var pages []pagination.Page[row]
			page := fetch(t, db, p, pagination.Request{Limit: size}, keys)
			for {
				pages = append(pages, page)
				assert.Equal(t, len(pages) > 1, page.HasPrev, "HasPrev of forward page %d", len(pages))
				if !page.HasNext {
					break
				}
				require.Less(t, len(pages), len(data)+2, "the walk does not end")
				page = fetch(t, db, p, pagination.Request{Limit: size, Cursor: page.NextCursor}, keys)
			}
			var got []row
			for i, pg := range pages {
				if i < len(pages)-1 {
					assert.Len(t, pg.Items, size, "forward page %d is not full", i)
				}
				got = append(got, pg.Items...)
			}
			require.Equal(t, ids(want), ids(got), "forward walk")

			// Backward from the last page.
			var back []row
			page = pages[len(pages)-1]
			back = append(slices.Clone(page.Items), back...)
			steps := 0
			for page.HasPrev {
				steps++
				require.Less(t, steps, len(data)+2, "the backward walk does not end")
				page = fetch(t, db, p, pagination.Request{Limit: size, Cursor: page.PrevCursor}, keys)
				assert.True(t, page.HasNext, "a page reached backward has a next page")
				if page.HasPrev {
					assert.Len(t, page.Items, size, "backward page is not full")
				}
				back = append(slices.Clone(page.Items), back...)
			}
			require.Equal(t, ids(want), ids(back), "backward walk")
		})
	}
}

func describe(cols []pagination.Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.Name)
		if c.Desc {
			b.WriteString("-")
		}
		b.WriteString([]string{"", "nf", "nl"}[c.Nulls])
	}
	return b.String()
}

func TestKeyset_WalkWhileRowsAreInsertedSkipsAndRepeatsNothing(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	createTable(t, db)
	rng := rand.New(rand.NewPCG(7, 7))
	data := make([]row, 200)
	for i := range data {
		data[i] = randomRow(rng, int64(i+1))
	}
	insertRows(t, db, data)

	for _, cols := range [][]pagination.Column{
		{{Name: "b", Nullable: true, Desc: true}, {Name: "c", Nullable: true, Nulls: pagination.NullsFirst}, {Name: "id", Unique: true}},
		{{Name: "e", Desc: true}, {Name: "d", Desc: true}, {Name: "id", Unique: true, Desc: true}},
	} {
		t.Run(describe(cols), func(t *testing.T) {
			spec := pagination.MustSpec(cols...)
			p := newTestPager(t, spec, 100)
			keys := keysFor(cols)
			for _, backward := range []bool{false, true} {
				progress, stop := insertConcurrently(t, db, rng.Int64())
				var seen []row
				req := pagination.Request{Limit: 7}
				if backward {
					req.Direction = pagination.Backward // from the last page
				}
				for {
					page := fetch(t, db, p, req, keys)
					if backward {
						seen = append(slices.Clone(page.Items), seen...)
					} else {
						seen = append(seen, page.Items...)
					}
					if backward && !page.HasPrev || !backward && !page.HasNext {
						break
					}
					progress() // let the writer land rows between the pages
					req = pagination.Request{Limit: 7, Cursor: page.NextCursor}
					if backward {
						req.Cursor = page.PrevCursor
					}
				}
				inserted := stop()
				require.Positive(t, inserted, "the writer inserted nothing during the walk")
				assert.True(t, slices.IsSortedFunc(seen, func(x, y row) int { return compareRows(cols, x, y) }),
					"rows out of order")
				visits := map[int64]int{}
				for _, r := range seen {
					visits[r.ID]++
				}
				for id, n := range visits {
					assert.Equal(t, 1, n, "row %d visited %d times", id, n)
				}
				for _, r := range data {
					assert.Equal(t, 1, visits[r.ID], "pre-existing row %d visited %d times", r.ID, visits[r.ID])
				}
			}
		})
	}
}

// insertConcurrently inserts random rows until the returned stop is called;
// stop waits for the writer and returns how many rows it inserted. progress
// waits until the writer has inserted another row.
func insertConcurrently(t *testing.T, db *pgxpool.Pool, seed int64) (progress func(), stop func() int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	inserted := make(chan struct{}, 1)
	go func() {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		n := 0
		defer func() { done <- n }()
		for ctx.Err() == nil {
			r := randomRow(rng, 1_000_000+seed%1_000_000*1000+int64(n))
			_, err := db.Exec(ctx, "INSERT INTO items ("+rowColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
				r.ID, r.A, r.B, r.C, r.D, r.E, r.U)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("concurrent insert: %v", err)
				}
				return
			}
			n++
			select {
			case inserted <- struct{}{}:
			default:
			}
		}
	}()
	progress = func() {
		select {
		case <-inserted:
		case <-time.After(5 * time.Second):
			t.Error("the writer made no progress")
		}
	}
	return progress, func() int { cancel(); return <-done }
}

func TestKeyset_EmptyPageAfterDeletesLeadsBackWithoutSkipping(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	createTable(t, db)
	rng := rand.New(rand.NewPCG(3, 3))
	data := make([]row, 10)
	for i := range data {
		data[i] = randomRow(rng, int64(i+1))
	}
	insertRows(t, db, data)
	cols := []pagination.Column{{Name: "id", Unique: true}}
	p := newTestPager(t, pagination.MustSpec(cols...), 100)
	keys := keysFor(cols)

	first := fetch(t, db, p, pagination.Request{Limit: 4}, keys)
	require.Equal(t, []int64{1, 2, 3, 4}, ids(first.Items))
	_, err := db.Exec(context.Background(), "DELETE FROM items WHERE id > 4")
	require.NoError(t, err)

	empty := fetch(t, db, p, pagination.Request{Limit: 4, Cursor: first.NextCursor}, keys)
	assert.Empty(t, empty.Items)
	assert.False(t, empty.HasNext)
	require.True(t, empty.HasPrev)
	back := fetch(t, db, p, pagination.Request{Limit: 4, Cursor: empty.PrevCursor}, keys)
	assert.Equal(t, []int64{1, 2, 3, 4}, ids(back.Items), "the boundary row itself is not skipped")
	assert.False(t, back.HasPrev)

	// The mirror image: rows before a backward cursor deleted.
	last := fetch(t, db, p, pagination.Request{Limit: 2, Direction: pagination.Backward}, keys)
	require.Equal(t, []int64{3, 4}, ids(last.Items))
	_, err = db.Exec(context.Background(), "DELETE FROM items WHERE id < 3")
	require.NoError(t, err)
	emptyBefore := fetch(t, db, p, pagination.Request{Limit: 2, Cursor: last.PrevCursor}, keys)
	assert.Empty(t, emptyBefore.Items)
	assert.False(t, emptyBefore.HasPrev)
	require.True(t, emptyBefore.HasNext)
	forward := fetch(t, db, p, pagination.Request{Limit: 2, Cursor: emptyBefore.NextCursor}, keys)
	assert.Equal(t, []int64{3, 4}, ids(forward.Items))
}

func TestKeyset_RelayConnectionAfterAndBefore(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	createTable(t, db)
	rng := rand.New(rand.NewPCG(4, 4))
	data := make([]row, 9)
	for i := range data {
		data[i] = randomRow(rng, int64(i+1))
	}
	insertRows(t, db, data)
	cols := []pagination.Column{{Name: "id", Unique: true, Desc: true}}
	p := newTestPager(t, pagination.MustSpec(cols...), 100)
	keys := keysFor(cols)

	page := fetch(t, db, p, pagination.Request{Limit: 4}, keys)
	conn, err := page.Connection()
	require.NoError(t, err)
	require.Len(t, conn.Edges, 4)
	assert.Equal(t, int64(9), conn.Edges[0].Node.ID)
	assert.Equal(t, pagination.PageInfo{HasNextPage: true, HasPreviousPage: false,
		StartCursor: conn.Edges[0].Cursor, EndCursor: conn.Edges[3].Cursor}, conn.PageInfo)

	after := fetch(t, db, p, pagination.Request{Limit: 3, Cursor: conn.Edges[1].Cursor, Direction: pagination.Forward}, keys)
	assert.Equal(t, []int64{7, 6, 5}, ids(after.Items), "after the second edge")
	before := fetch(t, db, p, pagination.Request{Limit: 3, Cursor: conn.PageInfo.EndCursor, Direction: pagination.Backward}, keys)
	assert.Equal(t, []int64{9, 8, 7}, ids(before.Items), "before the last edge")
	assert.False(t, before.HasPrev)
	assert.True(t, before.HasNext)
}
