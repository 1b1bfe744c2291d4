package conformance

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/pagination"
)

// Pagination declares the Signer it needs and crypto's MACKeyRing
// satisfies it without either importing the other. This composes the two
// real packages behind an HTTP listing, through a key rotation: a cursor
// signed under the old primary keeps working after Promote, and is
// refused, with a 400 that says nothing of keys, once its key is removed.

// listIDs serves ids 1 to 100 in pages, as a handler of a service does.
func listIDs(pager *pagination.Pager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := pager.ParseRequest(r.URL.Query())
		if pagination.WriteError(w, err) {
			return
		}
		q, err := pager.Query(req)
		if pagination.WriteError(w, err) {
			return
		}
		start := int64(1)
		if len(q.Args) > 0 {
			start = q.Args[0].(int64) + 1 // the rows after the cursor's
		}
		var rows []int64
		for id := start; id <= 100 && len(rows) < q.Limit; id++ {
			rows = append(rows, id)
		}
		page, err := pagination.NewPage(q, rows, func(id int64) []any { return []any{id} })
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(page)
	})
}

type idPage struct {
	Items      []int64 `json:"items"`
	NextCursor string  `json:"next_cursor"`
}

func getPage(t *testing.T, h http.Handler, cursor string) (*httptest.ResponseRecorder, idPage) {
	t.Helper()
	v := url.Values{"limit": {"10"}}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ids?"+v.Encode(), nil))
	var p idPage
	if rec.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	}
	return rec, p
}

func TestPagination_CursorsSignedByACryptoMACKeyRingSurviveRotation(t *testing.T) {
	ring, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	oldKey, err := ring.Rotate()
	require.NoError(t, err)

	var rejected []*pagination.CursorError
	pager, err := pagination.New(pagination.Config{
		Signer: ring, // *crypto.MACKeyRing is a pagination.Signer as it is
		Sorts:  []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}},
		Hooks:  pagination.Hooks{OnCursorRejected: func(e *pagination.CursorError) { rejected = append(rejected, e) }},
	})
	require.NoError(t, err)
	h := listIDs(pager)

	rec, first := getPage(t, h, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, first.Items)
	signedByOld := first.NextCursor
	require.NotEmpty(t, signedByOld)

	// Rotate: a new primary signs, the old key still verifies.
	newKey, err := ring.Rotate()
	require.NoError(t, err)
	require.NotEqual(t, oldKey, newKey)
	rec, second := getPage(t, h, signedByOld)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, int64(11), second.Items[0], "the old cursor still pages on after the new key was promoted")
	signedByNew := second.NextCursor

	// Promote the old key back and forth: cursors of both keys verify while
	// both are in the ring.
	require.NoError(t, ring.Promote(oldKey))
	require.NoError(t, ring.Promote(newKey))
	for _, c := range []string{signedByOld, signedByNew} {
		rec, _ := getPage(t, h, c)
		assert.Equal(t, http.StatusOK, rec.Code)
	}
	assert.Empty(t, rejected)

	// Retire, then remove, the old key: its cursors are refused as a
	// client's mistake, and the key ring's reason reaches only the hook.
	require.NoError(t, ring.Retire(oldKey))
	rec, _ = getPage(t, h, signedByOld)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	require.Len(t, rejected, 1)
	assert.ErrorIs(t, rejected[0], bcrypto.ErrKeyRetired)

	require.NoError(t, ring.Remove(oldKey))
	rec, _ = getPage(t, h, signedByOld)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.NotContains(t, rec.Body.String(), "crypto")
	assert.NotContains(t, rec.Body.String(), "key")
	require.Len(t, rejected, 2)
	assert.ErrorIs(t, rejected[1], pagination.ErrCursorSignature)
	assert.ErrorIs(t, rejected[1], bcrypto.ErrUnknownKey)

	rec, _ = getPage(t, h, signedByNew)
	assert.Equal(t, http.StatusOK, rec.Code, "the new key's cursors are untouched")
}
