package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	cases := []struct {
		name string
		in   Details
		want map[string]any
		code int
	}{
		{"defaults", Details{Status: 429}, map[string]any{"type": "about:blank", "title": "Too Many Requests", "status": 429.0}, 429},
		{"zero status is 500", Details{}, map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0}, 500},
		{"extensions cannot replace standard members", Details{Status: 413, Type: "https://x/too-large", Detail: "d",
			Extensions: map[string]any{"limit": 10, "status": 200}},
			map[string]any{"type": "https://x/too-large", "title": "Content Too Large", "status": 413.0, "detail": "d", "limit": 10.0}, 413},
		{"about:blank takes the status phrase, whatever the title", Details{Status: 409, Title: "Out of stock", Detail: "d"},
			map[string]any{"type": "about:blank", "title": "Conflict", "status": 409.0, "detail": "d"}, 409},
		{"an explicit about:blank too", Details{Type: "about:blank", Status: 422, Title: "Your request is not valid."},
			map[string]any{"type": "about:blank", "title": "Unprocessable Content", "status": 422.0}, 422},
		{"a type of its own keeps its title", Details{Type: "https://x/stock", Status: 409, Title: "Out of stock"},
			map[string]any{"type": "https://x/stock", "title": "Out of stock", "status": 409.0}, 409},
		{"an unknown status has no phrase", Details{Status: 599, Extensions: map[string]any{"title": "x", "detail": "y"}},
			map[string]any{"type": "about:blank", "status": 599.0}, 599},
		{"bad extension dropped", Details{Status: 400, Extensions: map[string]any{"f": func() {}}},
			map[string]any{"type": "about:blank", "title": "Bad Request", "status": 400.0}, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, tc.in)
			assert.Equal(t, tc.code, rec.Code)
			assert.Equal(t, ContentType, rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			var got map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
			assert.Equal(t, tc.want, got)
		})
	}
}

// RFC 9457 §4.2.1: with about:blank the title is the status's phrase, and
// the phrases are RFC 9110's, which renamed some that net/http still uses.
func TestStatusPhrase_IsRFC9110s(t *testing.T) {
	cases := map[int]string{
		400: "Bad Request", 404: "Not Found", 409: "Conflict", 410: "Gone",
		413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
		421: "Misdirected Request", 422: "Unprocessable Content", 428: "Precondition Required",
		429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
		0: "", 599: "",
	}
	for code, want := range cases {
		assert.Equal(t, want, StatusPhrase(code), "%d", code)
	}
}

// A problem sent in place of the handler's response must not carry the
// headers that described that response: its encoding, length, validators,
// target or range.
func TestWrite_DropsTheHeadersOfTheResponseItReplaces(t *testing.T) {
	stale := map[string]string{
		"Content-Encoding": "gzip", "Content-Length": "12345", "ETag": `"v1"`, "Last-Modified": "Mon, 02 Jan 2006 15:04:05 GMT",
		"Location": "/orders/1", "Content-Range": "bytes 0-9/100",
		"Content-Location": "/orders/1.json", "Content-Disposition": "attachment", "Content-Digest": "sha-256=:x:",
		"Repr-Digest": "sha-256=:x:", "Digest": "SHA-256=x",
	}
	kept := map[string]string{"Vary": "Origin", "Retry-After": "3", "X-Request-Id": "r1", "Content-Language": "fr"}
	for name, write := range map[string]func(http.ResponseWriter){
		"Write":            func(w http.ResponseWriter) { Write(w, Details{Status: 500}) },
		"Rendered":         func(w http.ResponseWriter) { Render(Details{Status: 413}).Closing().Write(w) },
		"Replace":          func(w http.ResponseWriter) { Replace(w, Details{Status: 500}) },
		"Rendered.Replace": func(w http.ResponseWriter) { Render(Details{Status: 413}).Closing().Replace(w) },
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			for k, v := range stale {
				w.Header().Set(k, v)
			}
			w.Header()["ETag"] = []string{`"raw"`} // set without canonicalising, as some handlers do
			for k, v := range kept {
				w.Header().Set(k, v)
			}
			write(w)
			for k := range stale {
				if k == "Content-Length" {
					assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get(k))
					continue
				}
				assert.Empty(t, w.Header().Values(k), k)
			}
			assert.NotContains(t, w.Header(), "ETag")
			for k, v := range kept {
				assert.Equal(t, v, w.Header().Get(k), k)
			}
			assert.Equal(t, ContentType, w.Header().Get("Content-Type"))
		})
	}
}

func TestExcerpt(t *testing.T) {
	cases := []struct {
		name, in, want string
		max            int
		cut            bool
	}{
		{"short", "abc", "abc", 4, false},
		{"exact", "abcd", "abcd", 4, false},
		{"cut", "abcdef", "abcd…", 4, true},
		{"never inside a rune", "abéé", "ab…", 3, true},
		{"four-byte runes", "😀😀", "😀…", 7, true},
		{"empty", "", "", 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := Excerpt(tc.in, tc.max)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.cut, cut)
			assert.True(t, utf8.ValidString(got))
		})
	}
	long := strings.Repeat("é", 1000)
	got, cut := Excerpt(long, ExcerptBytes)
	assert.True(t, cut)
	assert.LessOrEqual(t, len(got), ExcerptBytes+len("…"))
}

func BenchmarkWrite(b *testing.B) {
	b.ReportAllocs()
	d := Details{Status: http.StatusTooManyRequests, Detail: "slow down"}
	for b.Loop() {
		Write(httptest.NewRecorder(), d)
	}
}

func TestRendered_KeepsCacheControlAndCanClose(t *testing.T) {
	r := Render(Details{Status: http.StatusRequestEntityTooLarge})
	w := httptest.NewRecorder()
	w.Header().Set("Cache-Control", "private")
	r.Closing().Write(w)
	assert.Equal(t, "private", w.Header().Get("Cache-Control"))
	assert.Equal(t, "close", w.Header().Get("Connection"))
	plain := httptest.NewRecorder()
	r.Write(plain)
	assert.Empty(t, plain.Header().Get("Connection"), "Closing does not change the original")
	d := discard{h: http.Header{"Etag": {`"v1"`}, "Content-Encoding": {"gzip"}}}
	allocs := testing.AllocsPerRun(100, func() { r.Write(d) })
	assert.Zero(t, allocs, "a rendered answer costs nothing to send")
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}

// FuzzExcerpt checks, for any input, that an excerpt is a prefix of it
// within the bound, cut only at a rune boundary, and marked when cut.
func FuzzExcerpt(f *testing.F) {
	for _, s := range []string{"", "abc", strings.Repeat("é", 40), "\xff\xfe" + strings.Repeat("x", 70), "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"} {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = int(uint(max) % (1 << 10)) // any bound a caller could pass
		got, cut := Excerpt(s, max)
		if !cut {
			require.Equal(t, s, got)
			return
		}
		prefix, ok := strings.CutSuffix(got, "…")
		require.True(t, ok, "a cut is marked")
		require.True(t, strings.HasPrefix(s, prefix))
		require.LessOrEqual(t, len(prefix), max)
		require.Greater(t, len(s), max)
		if utf8.ValidString(s) {
			require.True(t, utf8.ValidString(got), "never inside a rune")
		}
	})
}

// A handler that refuses on purpose may clear a cookie with its refusal (a
// failed login flow clears its flow cookie); a response the handler never
// finished (a panic, a body limit mid-read) loses the cookies and caching it
// meant for its success.
func TestReplace_DropsCookiesAndCachingThatWriteKeeps(t *testing.T) {
	set := func(w http.ResponseWriter) {
		w.Header().Set("Set-Cookie", "flow=; Max-Age=0")
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Expires", "Thu, 01 Jan 2037 00:00:00 GMT")
		w.Header().Set("Pragma", "cache")
	}
	w := httptest.NewRecorder()
	set(w)
	Write(w, Details{Status: 400})
	assert.Equal(t, "flow=; Max-Age=0", w.Header().Get("Set-Cookie"), "Write keeps a deliberate cookie")
	assert.Equal(t, "public, max-age=600", w.Header().Get("Cache-Control"), "and the handler's own caching")

	w = httptest.NewRecorder()
	set(w)
	Replace(w, Details{Status: 500})
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "a shared cache never stores the failure")
	assert.Empty(t, w.Header().Values("Expires"))
	assert.Empty(t, w.Header().Values("Pragma"))
}
