package pagination_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/pagination"
)

// planNodes returns the node types of the plan PostgreSQL chooses.
func planNodes(t *testing.T, db *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	var raw []byte
	require.NoError(t, db.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&raw))
	var plans []struct{ Plan planNode }
	require.NoError(t, json.Unmarshal(raw, &plans))
	var out []string
	var walk func(n planNode)
	walk = func(n planNode) {
		out = append(out, n.NodeType)
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	return out
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Plans    []planNode `json:"Plans"`
}

func TestKeyset_PlansUseTheIndexWithoutSorting(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	ctx := context.Background()
	_, err := db.Exec(ctx, `
		CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL, score int, tenant int NOT NULL);
		INSERT INTO events SELECT g, '2026-01-01'::timestamptz + (g % 997) * interval '1 second',
			CASE WHEN g % 7 = 0 THEN NULL ELSE g % 101 END, g % 3
		FROM generate_series(1, 30000) g;
		CREATE INDEX events_tenant_at_id ON events (tenant, at DESC, id DESC);
		CREATE INDEX events_tenant_score_id ON events (tenant, score NULLS FIRST, id DESC);
		ANALYZE events;`)
	require.NoError(t, err)

	cases := []struct {
		name   string
		cols   []pagination.Column
		cursor []any
	}{
		{"row value, descending", []pagination.Column{{Name: "at", Desc: true}, {Name: "id", Unique: true, Desc: true}},
			[]any{time.Date(2026, 1, 1, 0, 8, 0, 0, time.UTC), int64(15000)}},
		{"expanded, mixed directions and NULLs", []pagination.Column{
			{Name: "score", Nullable: true, Nulls: pagination.NullsFirst}, {Name: "id", Unique: true, Desc: true}},
			[]any{int64(50), int64(15000)}},
		{"expanded, NULL boundary", []pagination.Column{
			{Name: "score", Nullable: true, Nulls: pagination.NullsFirst}, {Name: "id", Unique: true, Desc: true}},
			[]any{nil, int64(15001)}},
	}
	for _, tc := range cases {
		spec := pagination.MustSpec(tc.cols...)
		p := newTestPager(t, spec, 100)
		cursors := map[string]pagination.Request{"first page": {}, "last page": {Direction: pagination.Backward}}
		q0, err := p.Query(pagination.Request{})
		require.NoError(t, err)
		for _, dir := range []struct {
			name string
			d    pagination.Direction
		}{{"after", pagination.Forward}, {"before", pagination.Backward}} {
			cur := signedCursor(t, p, q0, tc.cols, tc.cursor)
			cursors[dir.name+" cursor"] = pagination.Request{Cursor: cur, Direction: dir.d}
		}
		for name, req := range cursors {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				q, err := p.Query(req, 1)
				require.NoError(t, err)
				sql := "SELECT id FROM events WHERE tenant = $1 AND " + q.Tail()
				nodes := planNodes(t, db, sql, q.Args...)
				assert.NotContains(t, nodes, "Sort", "plan of %s: %v", sql, nodes)
				assert.NotContains(t, nodes, "Incremental Sort", "plan of %s: %v", sql, nodes)
				assert.True(t, slices.ContainsFunc(nodes, func(n string) bool { return strings.HasPrefix(n, "Index") }),
					"no index scan in the plan of %s: %v", sql, nodes)
			})
		}
	}
}

// signedCursor makes a next-page cursor whose boundary row has the given
// values, by building a page from a one-row result.
func signedCursor(t *testing.T, p *pagination.Pager, q *pagination.Query, cols []pagination.Column, values []any) string {
	t.Helper()
	rows := make([][]any, q.Limit) // a full page plus one, so there is a next page
	for i := range rows {
		rows[i] = values
	}
	page, err := pagination.NewPage(q, rows, func(v []any) []any { return v })
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	return page.NextCursor
}
