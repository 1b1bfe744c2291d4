package pagination_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/pagination"
)

type anyRow struct {
	ID int64
	V  any
}

// TestKeyset_EveryColumnTypeRoundTripsThroughCursors pages through a column
// of each supported type, with ties and NULLs, scanning values as pgx
// returns them by default; PostgreSQL's own ORDER BY is the oracle.
func TestKeyset_EveryColumnTypeRoundTripsThroughCursors(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	ctx := context.Background()
	types := []struct{ typ, values string }{
		{"smallint", "1, 1, -3, NULL, 32767, NULL, 0"},
		{"integer", "1, 1, -3, NULL, 2147483647, 0"},
		{"bigint", "1, -9223372036854775808, NULL, 9223372036854775807, 1"},
		{"text", "'b', 'a', '', NULL, 'a', 'é', 'ab'"},
		{"timestamptz", "'2026-01-01 00:00:00.000001+00', '2026-01-01 00:00:00.000001+00', '2026-01-01 00:00:00.000002+00', NULL, '1970-01-01 00:00:00+00', '1901-01-01 00:00:00.5+00'"},
		{"timestamp", "'2026-01-01 00:00:00.000001', '2026-01-01 00:00:00.000001', '2026-01-01 00:00:00.000002', NULL, '1969-12-31 23:59:59.999999'"},
		{"date", "'2026-01-01', '2026-01-01', '1999-12-31', NULL"},
		{"uuid", "'00000000-0000-0000-0000-000000000001', 'ffffffff-0000-0000-0000-000000000000', NULL, '00000000-0000-0000-0000-000000000001', '80000000-0000-0000-0000-000000000000'"},
		{"boolean", "true, false, NULL, true, false, true"},
		{"double precision", "1.5, -0.0, 0.0, NULL, 'NaN', '-Infinity', 1e300, 1.5, 'Infinity', 0.1"},
		{"real", "1.5, 0.25, NULL, 'NaN', 1.5, 0.1"},
		{"bytea", `'\x00', '\x', '\x0001', NULL, '\x00', '\xff'`},
		{"numeric", "1.50, 1.5, 10, 9.999999999999999999999, NULL, -1"},
	}
	n := 0
	for _, tc := range types {
		for _, desc := range []bool{false, true} {
			for _, nulls := range []pagination.Nulls{pagination.NullsFirst, pagination.NullsLast} {
				n++
				table := pgx.Identifier{fmt.Sprintf("t_%d", n)}.Sanitize()
				t.Run(fmt.Sprintf("%s/desc=%v/nulls=%d", tc.typ, desc, nulls), func(t *testing.T) {
					_, err := db.Exec(ctx, fmt.Sprintf(`CREATE TABLE %[1]s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v %[2]s);
						INSERT INTO %[1]s (v) SELECT * FROM unnest(ARRAY[%[3]s]::%[2]s[])`, table, tc.typ, tc.values))
					require.NoError(t, err)
					cols := []pagination.Column{{Name: "v", Nullable: true, Desc: desc, Nulls: nulls}, {Name: "id", Unique: true}}
					p := newTestPager(t, pagination.MustSpec(cols...), 10)
					var want []int64
					rows, _ := db.Query(ctx, "SELECT id FROM "+table+" ORDER BY "+pagination.MustSpec(cols...).OrderBy())
					want, err = pgx.CollectRows(rows, pgx.RowTo[int64])
					require.NoError(t, err)

					fetchAny := func(req pagination.Request) pagination.Page[anyRow] {
						q, err := p.Query(req)
						require.NoError(t, err)
						rows, _ := db.Query(ctx, "SELECT id, v FROM "+table+" WHERE "+q.Tail(), q.Args...)
						items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[anyRow])
						require.NoError(t, err, q.Tail())
						page, err := pagination.NewPage(q, items, func(r anyRow) []any { return []any{r.V, r.ID} })
						require.NoError(t, err)
						return page
					}
					var got []int64
					page := fetchAny(pagination.Request{Limit: 1})
					for {
						for _, it := range page.Items {
							got = append(got, it.ID)
						}
						if !page.HasNext {
							break
						}
						require.Less(t, len(got), len(want)+1)
						page = fetchAny(pagination.Request{Limit: 1, Cursor: page.NextCursor})
					}
					assert.Equal(t, want, got, "forward")
					var back []int64
					for {
						for i := len(page.Items) - 1; i >= 0; i-- {
							back = append([]int64{page.Items[i].ID}, back...)
						}
						if !page.HasPrev {
							break
						}
						require.Less(t, len(back), len(want)+1)
						page = fetchAny(pagination.Request{Limit: 2, Cursor: page.PrevCursor})
					}
					assert.Equal(t, want, back, "backward")
				})
			}
		}
	}
}
