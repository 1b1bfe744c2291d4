package paginationobserve_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/paginationobserve"
	"github.com/bedrock-go/bedrock/pagination"
)

func TestHooks_CountRejectedCursorsByReason(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "paginationobserve")
	hooks, err := paginationobserve.Hooks(m.MP)
	require.NoError(t, err)
	newPager := func(signer pagination.Signer, hooks pagination.Hooks) *pagination.Pager {
		p, err := pagination.New(pagination.Config{
			Signer: signer,
			Sorts:  []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}},
			Hooks:  hooks,
		})
		require.NoError(t, err)
		return p
	}
	secret := func(s string) pagination.Signer {
		signer, err := pagination.NewSecretSigner([]byte(s))
		require.NoError(t, err)
		return signer
	}
	nextCursor := func(p *pagination.Pager) string {
		q, err := p.Query(pagination.Request{Limit: 2, Filter: "status=open"})
		require.NoError(t, err)
		page, err := pagination.NewPage(q, []int64{1, 2, 3}, func(id int64) []any { return []any{id} })
		require.NoError(t, err)
		require.NotEmpty(t, page.NextCursor)
		return page.NextCursor
	}
	cursor := nextCursor(newPager(secret("0123456789abcdef0123456789abcdef"), pagination.Hooks{}))

	// A key ring's own reason: the cursor's key was removed by rotation.
	ring, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	old, err := ring.Rotate()
	require.NoError(t, err)
	rotated := newPager(ring, hooks)
	ringCursor := nextCursor(rotated)
	_, err = ring.Rotate()
	require.NoError(t, err)
	require.NoError(t, ring.Remove(old))

	same := newPager(secret("0123456789abcdef0123456789abcdef"), hooks)
	forger := newPager(secret("ffffffffffffffffffffffffffffffff"), hooks)
	for _, tt := range []struct {
		p   *pagination.Pager
		req pagination.Request
	}{
		{same, pagination.Request{Cursor: "%%%not-a-cursor"}},
		{same, pagination.Request{Cursor: cursor, Filter: "status=closed"}},
		{forger, pagination.Request{Cursor: cursor, Filter: "status=open"}},
		{rotated, pagination.Request{Cursor: ringCursor, Filter: "status=open"}},
	} {
		_, err := tt.p.Query(tt.req)
		require.ErrorIs(t, err, pagination.ErrInvalidCursor)
	}
	_, err = same.Query(pagination.Request{Cursor: cursor, Filter: "status=open"})
	require.NoError(t, err)

	assert.Equal(t, map[string]int64{
		"bedrock.pagination.reason=malformed":   1,
		"bedrock.pagination.reason=mismatch":    1,
		"bedrock.pagination.reason=signature":   1,
		"bedrock.pagination.reason=unknown_key": 1,
	}, m.Counter(t, "bedrock.pagination.cursor_rejections", "{cursor}"))
}

// BenchmarkHooks_CursorRejected is the hook of every refused cursor: a path
// an attacker drives, so it must stay cheap.
func BenchmarkHooks_CursorRejected(b *testing.B) {
	hooks, err := paginationobserve.Hooks(otelhooktest.NewRecorder(b, "paginationobserve").MP)
	require.NoError(b, err)
	e := &pagination.CursorError{Reason: pagination.ErrCursorSignature, Detail: "signature mismatch"}
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnCursorRejected(e)
	}
}
