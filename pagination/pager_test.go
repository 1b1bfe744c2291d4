package pagination_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/pagination"
)

func TestNewKeyRing_Validates(t *testing.T) {
	_, err := pagination.NewKeyRing(pagination.Key{ID: 1, Secret: make([]byte, 31)})
	assert.ErrorIs(t, err, pagination.ErrInvalidConfig, "short secret")
	_, err = pagination.NewKeyRing(pagination.Key{ID: 1, Secret: secret(1)}, pagination.Key{ID: 1, Secret: secret(2)})
	assert.ErrorIs(t, err, pagination.ErrInvalidConfig, "repeated id")
	_, err = pagination.NewKeyRing(pagination.Key{ID: 1, Secret: secret(1)}, pagination.Key{ID: 2, Secret: nil})
	assert.ErrorIs(t, err, pagination.ErrInvalidConfig, "short verify-only secret")
	r, err := pagination.NewKeyRing(pagination.Key{ID: 5, Secret: secret(1)}, pagination.Key{ID: 2, Secret: secret(2)})
	require.NoError(t, err)
	assert.Equal(t, uint32(5), r.PrimaryID())
}

func TestNewKeyRing_CopiesSecrets(t *testing.T) {
	s := secret(1)
	r, err := pagination.NewKeyRing(pagination.Key{ID: 1, Secret: s})
	require.NoError(t, err)
	p := newPager(t, pagination.Config{Keys: r})
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 1})
	s[0] ^= 0xff // the caller reusing its buffer must not change the key
	_, err = p.Query(pagination.Request{Cursor: cur})
	assert.NoError(t, err)
}

func TestNew_ValidatesConfig(t *testing.T) {
	keys := ring(t, 1)
	sorts := []pagination.Sort{{Name: "id", Spec: byID}}
	cases := []struct {
		name string
		cfg  pagination.Config
	}{
		{"no keys", pagination.Config{Sorts: sorts}},
		{"no sorts", pagination.Config{Keys: keys}},
		{"unnamed sort", pagination.Config{Keys: keys, Sorts: []pagination.Sort{{Spec: byID}}}},
		{"sort without spec", pagination.Config{Keys: keys, Sorts: []pagination.Sort{{Name: "x"}}}},
		{"repeated sort", pagination.Config{Keys: keys, Sorts: append(sorts, sorts...)}},
		{"unknown default sort", pagination.Config{Keys: keys, Sorts: sorts, DefaultSort: "nope"}},
		{"negative limit", pagination.Config{Keys: keys, Sorts: sorts, DefaultLimit: -1}},
		{"negative TTL", pagination.Config{Keys: keys, Sorts: sorts, TTL: -1}},
		{"default above max", pagination.Config{Keys: keys, Sorts: sorts, DefaultLimit: 50, MaxLimit: 10}},
		{"default above default max", pagination.Config{Keys: keys, Sorts: sorts, DefaultLimit: 500}},
		{"cursor length below the minimum", pagination.Config{Keys: keys, Sorts: sorts, MaxCursorLen: 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pagination.New(tc.cfg)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, pagination.ErrInvalidConfig)
		})
	}
}

func TestPager_ParseRequest(t *testing.T) {
	p := newPager(t, pagination.Config{MaxLimit: 50})
	cases := []struct {
		query string
		want  pagination.Request
		param string // the offending parameter when an error is expected
	}{
		{"", pagination.Request{}, ""},
		{"limit=50&sort=id", pagination.Request{Limit: 50, Sort: "id"}, ""},
		{"cursor=abc", pagination.Request{Cursor: "abc"}, ""},
		{"after=abc", pagination.Request{Cursor: "abc", Direction: pagination.Forward}, ""},
		{"before=abc", pagination.Request{Cursor: "abc", Direction: pagination.Backward}, ""},
		{"before=", pagination.Request{Direction: pagination.Backward}, ""},
		{"limit=51", pagination.Request{}, "limit"},
		{"limit=0", pagination.Request{}, "limit"},
		{"limit=-1", pagination.Request{}, "limit"},
		{"limit=ten", pagination.Request{}, "limit"},
		{"limit=99999999999999999999999", pagination.Request{}, "limit"},
		{"sort=password", pagination.Request{}, "sort"},
		{"sort=id%3BDROP%20TABLE%20x", pagination.Request{}, "sort"},
		{"cursor=a&after=b", pagination.Request{}, "after"},
		{"after=a&before=b", pagination.Request{}, "before"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			got, err := p.ParseRequest(v)
			if tc.param == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			require.ErrorIs(t, err, pagination.ErrInvalidRequest)
			var re *pagination.RequestError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.param, re.Param)
		})
	}
}

func TestPager_QueryChecksRequestsBuiltByHand(t *testing.T) {
	p := newPager(t, pagination.Config{})
	for name, req := range map[string]pagination.Request{
		"limit above max": {Limit: 101},
		"negative limit":  {Limit: -3},
		"unknown sort":    {Sort: "nope"},
		"bad direction":   {Direction: 9},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.Query(req)
			assert.ErrorIs(t, err, pagination.ErrInvalidRequest)
		})
	}
}

func TestPage_LinkHeader(t *testing.T) {
	p := newPager(t, pagination.Config{Sorts: []pagination.Sort{{Name: "id", Spec: byID}}, FilterParams: []string{"status"}})
	base, _ := url.Parse("https://api.example/v1/items?status=open&limit=2&cursor=old#frag")
	keys := func(n int64) []any { return []any{n} }

	q, _ := p.Query(pagination.Request{Limit: 2})
	first, err := pagination.NewPage(q, []int64{1, 2, 3}, keys)
	require.NoError(t, err)
	link := first.Link(base)
	assert.Equal(t, `<https://api.example/v1/items?cursor=`+first.NextCursor+`&limit=2&sort=id&status=open>; rel="next", `+
		`<https://api.example/v1/items?before=&limit=2&sort=id&status=open>; rel="last"`, link)

	q, _ = p.Query(pagination.Request{Limit: 2, Cursor: first.NextCursor})
	middle, err := pagination.NewPage(q, []int64{3, 4, 5}, keys)
	require.NoError(t, err)
	assert.Equal(t, `<https://api.example/v1/items?limit=2&sort=id&status=open>; rel="first", `+
		`<https://api.example/v1/items?cursor=`+middle.PrevCursor+`&limit=2&sort=id&status=open>; rel="prev", `+
		`<https://api.example/v1/items?cursor=`+middle.NextCursor+`&limit=2&sort=id&status=open>; rel="next", `+
		`<https://api.example/v1/items?before=&limit=2&sort=id&status=open>; rel="last"`, middle.Link(base))

	q, _ = p.Query(pagination.Request{Limit: 2})
	only, err := pagination.NewPage(q, []int64{1}, keys)
	require.NoError(t, err)
	assert.Empty(t, only.Link(base), "a single page has no links")

	rel, _ := url.Parse("/items?after=x")
	assert.Contains(t, middle.Link(rel), `</items?cursor=`+middle.NextCursor+`&limit=2&sort=id>; rel="next"`, "relative bases stay relative")
}

func TestPage_JSONShape(t *testing.T) {
	p := newPager(t, pagination.Config{Sorts: []pagination.Sort{{Name: "id", Spec: byID}}})
	q, _ := p.Query(pagination.Request{Limit: 2})
	page, err := pagination.NewPage(q, []int64(nil), func(n int64) []any { return []any{n} })
	require.NoError(t, err)
	b, err := json.Marshal(page)
	require.NoError(t, err)
	assert.JSONEq(t, `{"items":[],"has_next":false,"has_prev":false}`, string(b))
}

func TestWriteError_AnswersClientMistakesWithProblemJSON(t *testing.T) {
	p := newPager(t, pagination.Config{})
	_, cursorErr := p.Query(pagination.Request{Cursor: "garbage-garbage-garbage-garbage-garbage"})
	_, reqErr := p.ParseRequest(url.Values{"limit": {"1000"}})
	cases := []struct {
		name    string
		err     error
		written bool
		param   string
	}{
		{"cursor", cursorErr, true, ""},
		{"request", reqErr, true, "limit"},
		{"server error", errors.New("db down"), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			assert.Equal(t, tc.written, pagination.WriteError(rec, tc.err))
			if !tc.written {
				assert.Equal(t, 0, rec.Body.Len())
				return
			}
			assert.Equal(t, 400, rec.Code)
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, float64(400), body["status"])
			assert.NotEmpty(t, body["detail"])
			if tc.param != "" {
				assert.Equal(t, tc.param, body["param"])
			}
		})
	}
}
