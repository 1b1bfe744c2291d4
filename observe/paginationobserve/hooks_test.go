package paginationobserve_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/paginationobserve"
	"github.com/bedrock-go/bedrock/pagination"
)

func TestHooks_CountRejectedCursorsByReason(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "paginationobserve")
	hooks, err := paginationobserve.Hooks(m.MP)
	require.NoError(t, err)
	newPager := func(secret string, hooks *pagination.Hooks) *pagination.Pager {
		keys, err := pagination.NewKeyRing(pagination.Key{ID: 1, Secret: []byte(secret)})
		require.NoError(t, err)
		p, err := pagination.New(pagination.Config{
			Keys:  keys,
			Sorts: []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}},
			Hooks: hooks,
		})
		require.NoError(t, err)
		return p
	}
	issuer := newPager("0123456789abcdef0123456789abcdef", nil)
	q, err := issuer.Query(pagination.Request{Limit: 2, Filter: "status=open"})
	require.NoError(t, err)
	page, err := pagination.NewPage(q, []int64{1, 2, 3}, func(id int64) []any { return []any{id} })
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)

	same := newPager("0123456789abcdef0123456789abcdef", hooks)
	forger := newPager("ffffffffffffffffffffffffffffffff", hooks)
	for _, tt := range []struct {
		p   *pagination.Pager
		req pagination.Request
	}{
		{same, pagination.Request{Cursor: "%%%not-a-cursor"}},
		{same, pagination.Request{Cursor: page.NextCursor, Filter: "status=closed"}},
		{forger, pagination.Request{Cursor: page.NextCursor, Filter: "status=open"}},
	} {
		_, err := tt.p.Query(tt.req)
		require.ErrorIs(t, err, pagination.ErrInvalidCursor)
	}
	_, err = same.Query(pagination.Request{Cursor: page.NextCursor, Filter: "status=open"})
	require.NoError(t, err)

	assert.Equal(t, map[string]int64{
		"bedrock.pagination.reason=malformed": 1,
		"bedrock.pagination.reason=mismatch":  1,
		"bedrock.pagination.reason=signature": 1,
	}, m.Counter(t, "bedrock.pagination.cursor_rejections", "{cursor}"))
}
