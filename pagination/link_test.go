package pagination_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/pagination"
)

// linkTargets parses a Link header value into rel → target.
func linkTargets(t *testing.T, header string) map[string]*url.URL {
	t.Helper()
	out := map[string]*url.URL{}
	for _, part := range strings.Split(header, ", ") {
		target, rel, ok := strings.Cut(part, `>; rel="`)
		require.True(t, ok, part)
		u, err := url.Parse(strings.TrimPrefix(target, "<"))
		require.NoError(t, err)
		out[strings.TrimSuffix(rel, `"`)] = u
	}
	return out
}

// Issue 20, item 10: the Link header copied the request's whole query, so
// a 200 KB query made a header too large for common clients. A link
// carries only what the pager owns: its cursor, the sort and the page size
// it checked, and the filter parameters the application declared.
func TestPage_LinkCarriesOnlyThePagersParameters(t *testing.T) {
	p := newPager(t, pagination.Config{Sorts: []pagination.Sort{{Name: "id", Spec: byID}},
		FilterParams: []string{"status"}})
	keys := func(n int64) []any { return []any{n} }
	junk := strings.Repeat("j", 200<<10)
	base, err := url.Parse("https://api.example/v1/items?junk=" + junk + "&status=open&status=new&limit=2&sort=id&cursor=old&x=1#frag")
	require.NoError(t, err)

	q, err := p.Query(pagination.Request{Sort: "id", Limit: 2})
	require.NoError(t, err)
	first, err := pagination.NewPage(q, []int64{1, 2, 3}, keys)
	require.NoError(t, err)
	link := first.Link(base)
	assert.Less(t, len(link), 1024, "whatever the request's query held")
	targets := linkTargets(t, link)
	require.Contains(t, targets, "next")
	next := targets["next"].Query()
	assert.Equal(t, url.Values{"cursor": {first.NextCursor}, "limit": {"2"}, "sort": {"id"}, "status": {"open", "new"}}, next)
	assert.Equal(t, url.Values{"before": {""}, "limit": {"2"}, "sort": {"id"}, "status": {"open", "new"}}, targets["last"].Query())
	assert.Empty(t, targets["next"].Fragment)

	// The page size and sort come from the checked query, not from base.
	q, err = p.Query(pagination.Request{Limit: 5})
	require.NoError(t, err)
	page, err := pagination.NewPage(q, []int64{1, 2, 3, 4, 5, 6}, keys)
	require.NoError(t, err)
	assert.Equal(t, "5", linkTargets(t, page.Link(base))["next"].Query().Get("limit"))
	assert.Equal(t, "id", linkTargets(t, page.Link(base))["next"].Query().Get("sort"), "the default sort is written out")

	// A declared filter parameter longer than a header can carry: no links
	// (the page's body still has its cursors) rather than a huge header.
	huge, err := url.Parse("/v1/items?status=" + junk)
	require.NoError(t, err)
	assert.Empty(t, first.Link(huge))
	assert.NotEmpty(t, first.NextCursor)
}

// Every header value Link writes stays within MaxLinkBytes.
func TestPage_LinkIsBounded(t *testing.T) {
	p := newPager(t, pagination.Config{Sorts: []pagination.Sort{{Name: "id", Spec: byID}},
		FilterParams: []string{"q"}})
	q, err := p.Query(pagination.Request{Limit: 1, Cursor: nextCursorByID(t, p)})
	require.NoError(t, err)
	page, err := pagination.NewPage(q, []int64{5, 6}, func(n int64) []any { return []any{n} })
	require.NoError(t, err)
	require.True(t, page.HasNext && page.HasPrev)
	for n := 0; n < 2*pagination.MaxLinkBytes; n += 97 {
		base, err := url.Parse("/v1/items?q=" + strings.Repeat("s", n))
		require.NoError(t, err)
		link := page.Link(base)
		assert.LessOrEqual(t, len(link), pagination.MaxLinkBytes, "q of %d bytes", n)
		if n < 256 {
			assert.Len(t, linkTargets(t, link), 4, "short filters keep every link")
		}
	}
}

func nextCursorByID(t *testing.T, p *pagination.Pager) string {
	t.Helper()
	q, err := p.Query(pagination.Request{Limit: 1})
	require.NoError(t, err)
	page, err := pagination.NewPage(q, []int64{3, 4}, func(n int64) []any { return []any{n} })
	require.NoError(t, err)
	return page.NextCursor
}

// A filter parameter may not shadow one the pager writes itself.
func TestNew_FilterParamsMayNotNameThePagersOwn(t *testing.T) {
	for _, name := range []string{"cursor", "after", "before", "limit", "sort", ""} {
		_, err := pagination.New(pagination.Config{Signer: signer(t, 1), Sorts: []pagination.Sort{{Name: "id", Spec: byID}},
			FilterParams: []string{name}})
		assert.ErrorIs(t, err, pagination.ErrInvalidConfig, name)
	}
	for _, name := range []string{"offset", "limit", ""} {
		_, err := pagination.NewOffset(pagination.OffsetConfig{FilterParams: []string{name}})
		assert.ErrorIs(t, err, pagination.ErrInvalidConfig, name)
	}
}

func TestOffsetPage_LinkCarriesOnlyLimitOffsetAndFilters(t *testing.T) {
	o, err := pagination.NewOffset(pagination.OffsetConfig{FilterParams: []string{"role"}})
	require.NoError(t, err)
	base, err := url.Parse("/admin/users?junk=" + strings.Repeat("j", 200<<10) + "&role=x&offset=20&limit=10")
	require.NoError(t, err)
	q, err := o.Query(pagination.OffsetRequest{Limit: 10, Offset: 20})
	require.NoError(t, err)
	page := pagination.NewOffsetPage(q, make([]int, 11))
	assert.Equal(t, `</admin/users?limit=10&offset=0&role=x>; rel="first", </admin/users?limit=10&offset=10&role=x>; rel="prev", `+
		`</admin/users?limit=10&offset=30&role=x>; rel="next"`, page.Link(base))
	huge, err := url.Parse("/admin/users?role=" + strings.Repeat("r", 200<<10))
	require.NoError(t, err)
	assert.Empty(t, page.Link(huge))
}

// Refusals are problems written for the client: a type and title of their
// own, a detail in plain words that echoes nothing the client sent and no
// Go error text.
func TestWriteError_ProblemsSpeakToClients(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	p := newPager(t, pagination.Config{TTL: time.Minute, Now: clock})
	other := newPager(t, pagination.Config{Signer: signer(t, 2)})
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 9})
	huge := strings.Repeat("Z", 200<<10)

	query := func(pg *pagination.Pager, req pagination.Request) error {
		_, err := pg.Query(req)
		require.Error(t, err)
		return err
	}
	parse := func(v url.Values) error {
		_, err := p.ParseRequest(v)
		require.Error(t, err)
		return err
	}
	cases := []struct {
		name, typ, detail string
		err               func() error
	}{
		{"malformed cursor", pagination.ProblemInvalidCursor, "malformed", func() error { return query(p, pagination.Request{Cursor: "garbage-garbage-garbage-garbage-garbage"}) }},
		{"huge cursor", pagination.ProblemInvalidCursor, "malformed", func() error { return query(p, pagination.Request{Cursor: huge}) }},
		{"another query", pagination.ProblemInvalidCursor, "another", func() error { return query(p, pagination.Request{Cursor: cur, Filter: "status=x"}) }},
		{"unknown key", pagination.ProblemInvalidCursor, "no longer valid", func() error { return query(other, pagination.Request{Cursor: cur}) }},
		{"expired", pagination.ProblemInvalidCursor, "expired", func() error {
			defer func() { now = time.Unix(1_700_000_000, 0) }()
			now = now.Add(time.Hour)
			return query(p, pagination.Request{Cursor: cur})
		}},
		{"huge sort", pagination.ProblemInvalidPageRequest, `"sort"`, func() error { return parse(url.Values{"sort": {huge}}) }},
		{"huge limit", pagination.ProblemInvalidPageRequest, `"limit"`, func() error { return parse(url.Values{"limit": {huge}}) }},
		{"two cursors", pagination.ProblemInvalidPageRequest, "only one", func() error {
			return parse(url.Values{"cursor": {huge}, "after": {huge}})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			rec := httptest.NewRecorder()
			require.True(t, pagination.WriteError(rec, err))
			assert.Equal(t, 400, rec.Code)
			assert.Less(t, rec.Body.Len(), 512, "no echo of the client's value")
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, tc.typ, body["type"])
			assert.NotEqual(t, "Bad Request", body["title"], "a type of its own has a title of its own")
			detail, _ := body["detail"].(string)
			assert.Contains(t, detail, tc.detail)
			assert.NotContains(t, detail, "pagination:", "not a Go error string")
			assert.NotContains(t, rec.Body.String(), "ZZZZ")
			assert.Less(t, len(err.Error()), 512, "the error, for logs, is bounded too")
		})
	}
}
