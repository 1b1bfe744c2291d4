package pagination_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/pagination"
)

func TestNewSecretSigner_Validates(t *testing.T) {
	_, err := pagination.NewSecretSigner(make([]byte, 31))
	assert.ErrorIs(t, err, pagination.ErrInvalidConfig, "short secret")
	_, err = pagination.NewSecretSigner(nil)
	assert.ErrorIs(t, err, pagination.ErrInvalidConfig, "no secret")
	_, err = pagination.NewSecretSigner(secret(1))
	assert.NoError(t, err)
}

func TestNewSecretSigner_CopiesTheSecret(t *testing.T) {
	s := secret(1)
	signer, err := pagination.NewSecretSigner(s)
	require.NoError(t, err)
	p := newPager(t, pagination.Config{Signer: signer})
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 1})
	s[0] ^= 0xff // the caller reusing its buffer must not change the key
	_, err = p.Query(pagination.Request{Cursor: cur})
	assert.NoError(t, err)
}

func TestNew_ValidatesConfig(t *testing.T) {
	keys := signer(t, 1)
	sorts := []pagination.Sort{{Name: "id", Spec: byID}}
	cases := []struct {
		name string
		cfg  pagination.Config
	}{
		{"no signer", pagination.Config{Sorts: sorts}},
		{"no sorts", pagination.Config{Signer: keys}},
		{"unnamed sort", pagination.Config{Signer: keys, Sorts: []pagination.Sort{{Spec: byID}}}},
		{"sort without spec", pagination.Config{Signer: keys, Sorts: []pagination.Sort{{Name: "x"}}}},
		{"repeated sort", pagination.Config{Signer: keys, Sorts: append(sorts, sorts...)}},
		{"unknown default sort", pagination.Config{Signer: keys, Sorts: sorts, DefaultSort: "nope"}},
		{"negative limit", pagination.Config{Signer: keys, Sorts: sorts, DefaultLimit: -1}},
		{"negative TTL", pagination.Config{Signer: keys, Sorts: sorts, TTL: -1}},
		{"default above max", pagination.Config{Signer: keys, Sorts: sorts, DefaultLimit: 50, MaxLimit: 10}},
		{"default above default max", pagination.Config{Signer: keys, Sorts: sorts, DefaultLimit: 500}},
		{"cursor length below the minimum", pagination.Config{Signer: keys, Sorts: sorts, MaxCursorLen: 10}},
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
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 42})
	cases := []struct {
		query string
		want  pagination.Request
		param string // the offending parameter when an error is expected
	}{
		{"", pagination.Request{}, ""},
		{"limit=50&sort=id", pagination.Request{Limit: 50, Sort: "id"}, ""},
		{"cursor=" + cur, pagination.Request{Cursor: cur}, ""},
		{"after=" + cur, pagination.Request{Cursor: cur, Direction: pagination.Forward}, ""},
		{"before=" + cur, pagination.Request{Cursor: cur, Direction: pagination.Backward}, ""},
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

// ParseRequest refuses a cursor that can never verify, before the caller
// builds its filter and query; only what needs the filter (the signature,
// the binding) is left to Query.
func TestPager_ParseRequestRefusesAMalformedCursor(t *testing.T) {
	var rejected []*pagination.CursorError
	p := newPager(t, pagination.Config{MaxCursorLen: 200, Hooks: pagination.Hooks{
		OnCursorRejected: func(err *pagination.CursorError) { rejected = append(rejected, err) },
	}})
	cur := nextCursor(t, p, pagination.Request{Filter: "status=open"}, item{CreatedAt: when, ID: 42})
	raw, err := base64.RawURLEncoding.DecodeString(cur)
	require.NoError(t, err)
	otherVersion := bytes.Clone(raw)
	otherVersion[0] ^= 0x80

	for name, q := range map[string]url.Values{
		"garbage":                  {"cursor": {"abc"}},
		"not base64url":            {"after": {strings.Repeat("*", 60)}},
		"padded":                   {"before": {cur + "=="}},
		"truncated":                {"cursor": {cur[:10]}},
		"longer than MaxCursorLen": {"cursor": {strings.Repeat("A", 201)}},
		"unknown format version":   {"cursor": {base64.RawURLEncoding.EncodeToString(otherVersion)}},
	} {
		t.Run(name, func(t *testing.T) {
			rejected = nil
			_, err := p.ParseRequest(q)
			require.ErrorIs(t, err, pagination.ErrInvalidCursor)
			assert.ErrorIs(t, err, pagination.ErrCursorMalformed)
			var ce *pagination.CursorError
			require.ErrorAs(t, err, &ce)
			assert.Len(t, rejected, 1, "the hook sees a refusal in ParseRequest too")
		})
	}

	req, err := p.ParseRequest(url.Values{"cursor": {cur}})
	require.NoError(t, err, "a well-formed cursor passes; its signature is Query's to check")
	req.Filter = "status=open"
	_, err = p.Query(req)
	require.NoError(t, err)
	req.Filter = "status=closed"
	_, err = p.Query(req)
	assert.ErrorIs(t, err, pagination.ErrCursorMismatch, "the binding needs the filter, so Query checks it")
}
