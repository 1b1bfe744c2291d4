package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

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
			map[string]any{"type": "https://x/too-large", "title": "Request Entity Too Large", "status": 413.0, "detail": "d", "limit": 10.0}, 413},
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
	d := discard{h: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() { r.Write(d) })
	assert.Zero(t, allocs, "a rendered answer costs nothing to send")
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
