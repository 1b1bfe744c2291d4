package pagination_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/pagination"
)

func TestNewOffset_ValidatesConfig(t *testing.T) {
	for name, cfg := range map[string]pagination.OffsetConfig{
		"negative offset cap":   {MaxOffset: -1},
		"negative limit":        {DefaultLimit: -1},
		"default above max":     {DefaultLimit: 30, MaxLimit: 10},
		"absurd offset cap":     {MaxOffset: 1 << 50},
		"default above default": {DefaultLimit: 101},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pagination.NewOffset(cfg)
			assert.ErrorIs(t, err, pagination.ErrInvalidConfig)
		})
	}
}

func TestOffset_ParseRequest(t *testing.T) {
	o, err := pagination.NewOffset(pagination.OffsetConfig{})
	require.NoError(t, err)
	cases := []struct {
		query string
		want  pagination.OffsetRequest
		param string
	}{
		{"", pagination.OffsetRequest{}, ""},
		{"limit=100&offset=10000", pagination.OffsetRequest{Limit: 100, Offset: 10000}, ""},
		{"offset=10001", pagination.OffsetRequest{}, "offset"},
		{"offset=-1", pagination.OffsetRequest{}, "offset"},
		{"offset=x", pagination.OffsetRequest{}, "offset"},
		{"limit=101", pagination.OffsetRequest{}, "limit"},
		{"limit=-5", pagination.OffsetRequest{}, "limit"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			got, err := o.ParseRequest(v)
			if tc.param == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var re *pagination.RequestError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.param, re.Param)
			assert.ErrorIs(t, err, pagination.ErrInvalidRequest)
		})
	}
}

func TestOffset_CapIsConfigurable(t *testing.T) {
	o, err := pagination.NewOffset(pagination.OffsetConfig{MaxOffset: 50})
	require.NoError(t, err)
	_, err = o.Query(pagination.OffsetRequest{Offset: 51})
	assert.ErrorIs(t, err, pagination.ErrInvalidRequest)
	q, err := o.Query(pagination.OffsetRequest{Offset: 50})
	require.NoError(t, err)
	assert.Equal(t, "LIMIT 21 OFFSET 50", q.Clause())
}

func TestOffsetPage_Link(t *testing.T) {
	o, err := pagination.NewOffset(pagination.OffsetConfig{MaxOffset: 100, FilterParams: []string{"role"}})
	require.NoError(t, err)
	base, _ := url.Parse("/admin/users?role=x&offset=20&limit=10")
	cases := []struct {
		name   string
		offset int
		rows   int
		total  int64 // -1: not counted
		want   string
	}{
		{"first page, no total", 0, 11, -1, `</admin/users?limit=10&offset=10&role=x>; rel="next"`},
		{"middle with total", 20, 11, 95,
			`</admin/users?limit=10&offset=0&role=x>; rel="first", </admin/users?limit=10&offset=10&role=x>; rel="prev", ` +
				`</admin/users?limit=10&offset=30&role=x>; rel="next", </admin/users?limit=10&offset=90&role=x>; rel="last"`},
		{"last page beyond the cap is not linked", 20, 11, 5000,
			`</admin/users?limit=10&offset=0&role=x>; rel="first", </admin/users?limit=10&offset=10&role=x>; rel="prev", ` +
				`</admin/users?limit=10&offset=30&role=x>; rel="next"`},
		{"unaligned offset", 5, 10, 15,
			`</admin/users?limit=10&offset=0&role=x>; rel="first", </admin/users?limit=10&offset=0&role=x>; rel="prev"`},
		{"only page", 0, 3, 3, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := o.Query(pagination.OffsetRequest{Limit: 10, Offset: tc.offset})
			require.NoError(t, err)
			page := pagination.NewOffsetPage(q, make([]int, tc.rows))
			if tc.total >= 0 {
				page.SetTotal(tc.total)
			}
			assert.LessOrEqual(t, len(page.Items), 10)
			assert.Equal(t, tc.want, page.Link(base))
		})
	}
}

func TestOffset_AgainstPostgreSQL(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	ctx := context.Background()
	_, err := db.Exec(ctx, `CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users SELECT generate_series(1, 25)`)
	require.NoError(t, err)
	o, err := pagination.NewOffset(pagination.OffsetConfig{DefaultLimit: 10})
	require.NoError(t, err)
	var got []int
	for off := 0; ; off += 10 {
		q, err := o.Query(pagination.OffsetRequest{Offset: off})
		require.NoError(t, err)
		rows, _ := db.Query(ctx, "SELECT id, count(*) OVER () FROM users ORDER BY id "+q.Clause())
		var total int64
		ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (int, error) {
			var id int
			return id, r.Scan(&id, &total)
		})
		require.NoError(t, err)
		page := pagination.NewOffsetPage(q, ids)
		page.SetTotal(total)
		assert.Equal(t, int64(25), *page.Total)
		assert.Equal(t, off > 0, page.HasPrev)
		got = append(got, page.Items...)
		if !page.HasNext {
			assert.Equal(t, 20, off)
			break
		}
	}
	assert.Len(t, got, 25)
	for i, id := range got {
		assert.Equal(t, i+1, id)
	}
}
