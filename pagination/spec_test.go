package pagination_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/pagination"
)

func TestNewSpec_RefusesOrdersThatAreNotTotal(t *testing.T) {
	cases := []struct {
		name string
		cols []pagination.Column
	}{
		{"no columns", nil},
		{"no tie-breaker", []pagination.Column{{Name: "created_at"}}},
		{"nullable tie-breaker", []pagination.Column{{Name: "id", Unique: true, Nullable: true}}},
		{"columns after a unique one", []pagination.Column{{Name: "id", Unique: true}, {Name: "x", Unique: true}}},
		{"empty name", []pagination.Column{{Name: "", Unique: true}}},
		{"NUL in name", []pagination.Column{{Name: "a\x00b", Unique: true}}},
		{"invalid UTF-8", []pagination.Column{{Name: "a\xffb", Unique: true}}},
		{"repeated column", []pagination.Column{{Name: "a"}, {Name: "a", Unique: true}}},
		{"unknown Nulls", []pagination.Column{{Name: "a", Nulls: 9}, {Name: "id", Unique: true}}},
		{"too many columns", func() []pagination.Column {
			cols := make([]pagination.Column, 17)
			for i := range cols {
				cols[i] = pagination.Column{Name: string(rune('a' + i))}
			}
			cols[16].Unique = true
			return cols
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := pagination.NewSpec(tc.cols...)
			assert.Nil(t, s)
			require.ErrorIs(t, err, pagination.ErrInvalidConfig)
		})
	}
	assert.Panics(t, func() { pagination.MustSpec() })
}

func TestSpec_QuotesIdentifiers(t *testing.T) {
	s := pagination.MustSpec(
		pagination.Column{Table: "p", Name: `we"ird`, Desc: true},
		pagination.Column{Name: "ID", Unique: true, Desc: true},
	)
	assert.Equal(t, `"p"."we""ird" DESC, "ID" DESC`, s.OrderBy())
	assert.Equal(t, 2, s.Len())
}

// TestQuery_SQL pins the SQL for each shape of spec: row-value comparison
// when directions agree and nothing is nullable, the expanded form
// otherwise, NULL boundaries, reversed order for backward pages, and the
// caller's own parameters first.
func TestQuery_SQL(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	cases := []struct {
		name      string
		cols      []pagination.Column
		values    []any
		dir       pagination.Direction
		where     string
		orderBy   string
		extraArgs []any
	}{
		{"row value ascending", []pagination.Column{{Name: "a"}, {Name: "id", Unique: true}},
			[]any{int64(1), int64(2)}, pagination.Forward,
			`("a", "id") > ($2, $3)`, `"a", "id"`, []any{int64(1), int64(2)}},
		{"row value descending, backward", []pagination.Column{{Name: "a", Desc: true}, {Name: "id", Unique: true, Desc: true}},
			[]any{int64(1), int64(2)}, pagination.Backward,
			`("a", "id") > ($2, $3)`, `"a", "id"`, []any{int64(1), int64(2)}},
		{"single column", []pagination.Column{{Name: "id", Unique: true, Desc: true}},
			[]any{int64(5)}, pagination.Forward, `"id" < $2`, `"id" DESC`, []any{int64(5)}},
		{"mixed directions", []pagination.Column{{Name: "at", Desc: true}, {Name: "id", Unique: true}},
			[]any{ts, int64(2)}, pagination.Forward,
			`("at" <= $2 AND ("at" < $2 OR ("at" = $2 AND "id" > $3)))`, `"at" DESC, "id"`, []any{ts, int64(2)}},
		{"nullable, NULLS LAST, value", []pagination.Column{{Name: "s", Nullable: true}, {Name: "id", Unique: true}},
			[]any{"x", int64(2)}, pagination.Forward,
			`((("s" > $2 OR "s" IS NULL) OR ("s" = $2 AND "id" > $3)))`, `"s", "id"`, []any{"x", int64(2)}},
		{"nullable, NULLS LAST, NULL boundary", []pagination.Column{{Name: "s", Nullable: true}, {Name: "id", Unique: true}},
			[]any{nil, int64(2)}, pagination.Forward,
			`(("s" IS NULL AND "id" > $2))`, `"s", "id"`, []any{int64(2)}},
		{"nullable, NULLS FIRST, NULL boundary", []pagination.Column{{Name: "s", Nullable: true, Nulls: pagination.NullsFirst}, {Name: "id", Unique: true}},
			[]any{nil, int64(2)}, pagination.Forward,
			`(("s" IS NOT NULL OR ("s" IS NULL AND "id" > $2)))`, `"s" NULLS FIRST, "id"`, []any{int64(2)}},
		{"nullable, NULLS FIRST, value gets the index bound", []pagination.Column{{Name: "s", Nullable: true, Nulls: pagination.NullsFirst}, {Name: "id", Unique: true}},
			[]any{"x", int64(2)}, pagination.Forward,
			`("s" >= $2 AND ("s" > $2 OR ("s" = $2 AND "id" > $3)))`, `"s" NULLS FIRST, "id"`, []any{"x", int64(2)}},
		{"nullable, backward flips NULL placement", []pagination.Column{{Name: "s", Nullable: true, Desc: true}, {Name: "id", Unique: true, Desc: true}},
			[]any{"x", int64(2)}, pagination.Backward,
			`((("s" > $2 OR "s" IS NULL) OR ("s" = $2 AND "id" > $3)))`, `"s", "id"`, []any{"x", int64(2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPager(t, pagination.Config{Sorts: []pagination.Sort{{Name: "s", Spec: pagination.MustSpec(tc.cols...)}}})
			q0, err := p.Query(pagination.Request{Limit: 1})
			require.NoError(t, err)
			page, err := pagination.NewPage(q0, [][]any{tc.values, tc.values}, func(v []any) []any { return v })
			require.NoError(t, err)
			q, err := p.Query(pagination.Request{Limit: 10, Cursor: page.NextCursor, Direction: tc.dir}, "tenant")
			require.NoError(t, err)
			assert.Equal(t, tc.where, q.Where)
			assert.Equal(t, tc.orderBy, q.OrderBy)
			assert.Equal(t, 11, q.Limit)
			assert.Equal(t, append([]any{"tenant"}, tc.extraArgs...), q.Args)
			assert.Equal(t, tc.where+" ORDER BY "+tc.orderBy+" LIMIT 11", q.Tail())
			assert.Equal(t, tc.dir == pagination.Backward, q.Backward())
		})
	}
}

func TestQuery_FirstAndLastPagesNeedNoCursor(t *testing.T) {
	p := newPager(t, pagination.Config{})
	q, err := p.Query(pagination.Request{}, 7)
	require.NoError(t, err)
	assert.Equal(t, `TRUE ORDER BY "created_at" DESC, "score", "id" DESC LIMIT 21`, q.Tail())
	assert.Equal(t, []any{7}, q.Args)
	assert.Equal(t, 20, q.PageSize())
	q, err = p.Query(pagination.Request{Direction: pagination.Backward, Limit: 5})
	require.NoError(t, err)
	assert.Equal(t, `TRUE ORDER BY "created_at", "score" DESC, "id" LIMIT 6`, q.Tail())
}

func TestQuery_NeverWritesIntoTheCallersArgs(t *testing.T) {
	p := newPager(t, pagination.Config{Sorts: []pagination.Sort{{Name: "id", Spec: byID}}})
	q0, _ := p.Query(pagination.Request{Limit: 1})
	page, err := pagination.NewPage(q0, []int64{1, 2}, func(n int64) []any { return []any{n} })
	require.NoError(t, err)
	args := make([]any, 1, 8)
	args[0] = "tenant"
	spare := args[:2]
	spare[1] = "untouched"
	q, err := p.Query(pagination.Request{Limit: 1, Cursor: page.NextCursor}, args...)
	require.NoError(t, err)
	assert.Equal(t, []any{"tenant", int64(1)}, q.Args)
	assert.Equal(t, "untouched", spare[1])
}
