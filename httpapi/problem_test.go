package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
)

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
	return m
}

func TestProblem_Write(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      httpapi.Problem
		status int
		want   map[string]any
	}{
		{"zero is a 500 about:blank", httpapi.Problem{}, 500,
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0}},
		{"about:blank takes the status phrase, not the title", httpapi.Problem{Status: 413, Title: "Too big!"}, 413,
			map[string]any{"type": "about:blank", "title": "Content Too Large", "status": 413.0}},
		{"a type of its own keeps its title", httpapi.Problem{Type: "https://shop.example/problems/out-of-stock", Title: "Out of stock",
			Status: 409, Detail: "Not enough stock.", Extensions: map[string]any{"product_id": 42}}, 409,
			map[string]any{"type": "https://shop.example/problems/out-of-stock", "title": "Out of stock", "status": 409.0,
				"detail": "Not enough stock.", "product_id": 42.0}},
		{"a type without a title takes the phrase", httpapi.Problem{Type: "https://x.example/p", Status: 422}, 422,
			map[string]any{"type": "https://x.example/p", "title": "Unprocessable Content", "status": 422.0}},
		{"extensions never replace standard members", httpapi.Problem{Status: 400, Instance: "/orders/7",
			Extensions: map[string]any{"status": 200, "title": "OK", "type": "x", "detail": "d", "instance": "i", "code": "c"}}, 400,
			map[string]any{"type": "about:blank", "title": "Bad Request", "status": 400.0, "instance": "/orders/7", "code": "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.p.Write(w)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, httpapi.ProblemContentType, w.Header().Get("Content-Type"))
			assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, tc.want, decode(t, w))

			b, err := json.Marshal(tc.p)
			require.NoError(t, err)
			assert.JSONEq(t, strings.TrimSpace(w.Body.String()), string(b), "MarshalJSON is what Write sends")
		})
	}
}

func TestProblem_WriteDropsTheRepresentationsHeadersButKeepsCookies(t *testing.T) {
	w := httptest.NewRecorder()
	for k, v := range map[string]string{"Content-Encoding": "gzip", "ETag": `"v1"`, "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT",
		"Location": "/orders/1", "Set-Cookie": "flow=; Max-Age=0", "Vary": "Origin", "Cache-Control": "private"} {
		w.Header().Set(k, v)
	}
	httpapi.Problem{Status: http.StatusBadRequest, Detail: "The state does not match."}.Write(w)
	for _, k := range []string{"Content-Encoding", "Etag", "Last-Modified", "Location"} {
		assert.Empty(t, w.Header().Values(k), k)
	}
	assert.Equal(t, "flow=; Max-Age=0", w.Header().Get("Set-Cookie"), "a refusal may clear a cookie")
	assert.Equal(t, "Origin", w.Header().Get("Vary"))
	assert.Equal(t, "private", w.Header().Get("Cache-Control"), "the handler's own choice stays")
}

func TestStatusPhraseAndExcerpt(t *testing.T) {
	assert.Equal(t, "Unprocessable Content", httpapi.StatusPhrase(422))
	assert.Equal(t, "", httpapi.StatusPhrase(599))
	s, cut := httpapi.Excerpt(strings.Repeat("é", 100), httpapi.ExcerptBytes)
	assert.True(t, cut)
	assert.LessOrEqual(t, len(s), httpapi.ExcerptBytes+len("…"))
	assert.True(t, strings.HasSuffix(s, "…"))
	s, cut = httpapi.Excerpt("short", httpapi.ExcerptBytes)
	assert.False(t, cut)
	assert.Equal(t, "short", s)
}
