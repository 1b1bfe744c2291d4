package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
)

// lastModified is RFC 9110's example date (§13.1.3, §13.1.4).
var lastModified = time.Date(1994, 10, 29, 19, 43, 31, 0, time.UTC)

const (
	rfcDate    = "Sat, 29 Oct 1994 19:43:31 GMT"
	earlier    = "Sat, 29 Oct 1994 19:43:30 GMT"
	later      = "Sat, 29 Oct 1994 19:43:32 GMT"
	rfc850Date = "Saturday, 29-Oct-94 19:43:31 GMT" // obsolete forms a recipient must accept (§5.6.7)
	asctime    = "Sat Oct 29 19:43:31 1994"
)

func request(method string, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, "/doc", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

// TestEvaluatePreconditions follows RFC 9110 §13.1's examples and the
// order of §13.2.2.
func TestEvaluatePreconditions(t *testing.T) {
	xyzzy := httpapi.Validators{ETag: `"xyzzy"`, LastModified: lastModified}
	weak := httpapi.Validators{ETag: `W/"xyzzy"`, LastModified: lastModified}
	dated := httpapi.Validators{LastModified: lastModified.Add(500 * time.Millisecond)}
	missing := httpapi.Validators{Missing: true}
	for _, tc := range []struct {
		name  string
		r     *http.Request
		v     httpapi.Validators
		want  httpapi.Result
		errIs error
	}{
		{"no preconditions", request("GET"), xyzzy, httpapi.Proceed, nil},
		// §13.1.1 If-Match
		{"If-Match one tag that matches", request("PUT", "If-Match", `"xyzzy"`), xyzzy, httpapi.Proceed, nil},
		{"If-Match a list naming the tag", request("PUT", "If-Match", `"xyzzy", "r2d2xxxx", "c3piozzzz"`), xyzzy, httpapi.Proceed, nil},
		{"If-Match a list not naming it", request("PUT", "If-Match", `"r2d2xxxx", "c3piozzzz"`), xyzzy, httpapi.PreconditionFailed, nil},
		{"If-Match * on an existing resource", request("PUT", "If-Match", "*"), xyzzy, httpapi.Proceed, nil},
		{"If-Match * on a missing resource", request("PUT", "If-Match", "*"), missing, httpapi.PreconditionFailed, nil},
		{"If-Match compares strongly: weak request tag", request("PUT", "If-Match", `W/"xyzzy"`), xyzzy, httpapi.PreconditionFailed, nil},
		{"If-Match compares strongly: weak current tag", request("PUT", "If-Match", `"xyzzy"`), weak, httpapi.PreconditionFailed, nil},
		{"If-Match on a GET that fails is 412 too", request("GET", "If-Match", `"other"`), xyzzy, httpapi.PreconditionFailed, nil},
		{"If-Match without a current tag", request("PUT", "If-Match", `"xyzzy"`), dated, httpapi.PreconditionFailed, nil},
		{"If-Match malformed", request("PUT", "If-Match", `xyzzy`), xyzzy, httpapi.Proceed, httpapi.ErrInvalidPrecondition},
		{"If-Match malformed after a match", request("PUT", "If-Match", `"xyzzy", bad`), xyzzy, httpapi.Proceed, httpapi.ErrInvalidPrecondition},
		{"If-Match empty names nothing", request("PUT", "If-Match", ``), xyzzy, httpapi.PreconditionFailed, nil},
		{"If-None-Match empty matches nothing and rules If-Modified-Since out", request("GET", "If-None-Match", ` `, "If-Modified-Since", later), xyzzy, httpapi.Proceed, nil},
		// §13.1.4 If-Unmodified-Since, only without If-Match
		{"If-Unmodified-Since the modification date", request("PUT", "If-Unmodified-Since", rfcDate), xyzzy, httpapi.Proceed, nil},
		{"If-Unmodified-Since later", request("PUT", "If-Unmodified-Since", later), xyzzy, httpapi.Proceed, nil},
		{"If-Unmodified-Since earlier", request("PUT", "If-Unmodified-Since", earlier), xyzzy, httpapi.PreconditionFailed, nil},
		{"If-Unmodified-Since compares whole seconds", request("PUT", "If-Unmodified-Since", rfcDate), dated, httpapi.Proceed, nil},
		{"If-Unmodified-Since in RFC 850 form", request("PUT", "If-Unmodified-Since", rfc850Date), xyzzy, httpapi.Proceed, nil},
		{"If-Unmodified-Since invalid date is ignored", request("PUT", "If-Unmodified-Since", "yesterday"), xyzzy, httpapi.Proceed, nil},
		{"If-Unmodified-Since without a modification date is ignored", request("PUT", "If-Unmodified-Since", earlier), httpapi.Validators{ETag: `"xyzzy"`}, httpapi.Proceed, nil},
		{"If-Match overrides If-Unmodified-Since", request("PUT", "If-Match", `"xyzzy"`, "If-Unmodified-Since", earlier), xyzzy, httpapi.Proceed, nil},
		// §13.1.2 If-None-Match
		{"If-None-Match GET matching: 304", request("GET", "If-None-Match", `"xyzzy"`), xyzzy, httpapi.NotModified, nil},
		{"If-None-Match HEAD matching: 304", request("HEAD", "If-None-Match", `"xyzzy"`), xyzzy, httpapi.NotModified, nil},
		{"If-None-Match compares weakly: weak request tag", request("GET", "If-None-Match", `W/"xyzzy"`), xyzzy, httpapi.NotModified, nil},
		{"If-None-Match compares weakly: weak current tag", request("GET", "If-None-Match", `"xyzzy"`), weak, httpapi.NotModified, nil},
		{"If-None-Match a list naming it", request("GET", "If-None-Match", `"xyzzy", "r2d2xxxx", "c3piozzzz"`), xyzzy, httpapi.NotModified, nil},
		{"If-None-Match a weak list naming it", request("GET", "If-None-Match", `W/"xyzzy", W/"r2d2xxxx", W/"c3piozzzz"`), xyzzy, httpapi.NotModified, nil},
		{"If-None-Match not matching", request("GET", "If-None-Match", `"r2d2xxxx"`), xyzzy, httpapi.Proceed, nil},
		{"If-None-Match * on an existing resource GET", request("GET", "If-None-Match", "*"), xyzzy, httpapi.NotModified, nil},
		{"If-None-Match * PUT on an existing resource", request("PUT", "If-None-Match", "*"), xyzzy, httpapi.PreconditionFailed, nil},
		{"If-None-Match * PUT creating", request("PUT", "If-None-Match", "*"), missing, httpapi.Proceed, nil},
		{"If-None-Match matching on a POST: 412", request("POST", "If-None-Match", `"xyzzy"`), xyzzy, httpapi.PreconditionFailed, nil},
		{"If-None-Match in two field lines is one list", request("GET", "If-None-Match", `"a"`, "If-None-Match", `"xyzzy"`), xyzzy, httpapi.NotModified, nil},
		{"If-Match in two field lines is one list", request("PUT", "If-Match", `"a"`, "If-Match", `"xyzzy"`), xyzzy, httpapi.Proceed, nil},
		{"If-Match * beside another line is malformed", request("PUT", "If-Match", `*`, "If-Match", `"xyzzy"`), xyzzy, httpapi.Proceed, httpapi.ErrInvalidPrecondition},
		{"If-None-Match blank first line", request("GET", "If-None-Match", ``, "If-None-Match", `"xyzzy"`), xyzzy, httpapi.NotModified, nil},
		{"If-None-Match malformed", request("GET", "If-None-Match", `"xyzzy`), xyzzy, httpapi.Proceed, httpapi.ErrInvalidPrecondition},
		{"If-None-Match malformed against no tag", request("GET", "If-None-Match", `abc`), dated, httpapi.Proceed, httpapi.ErrInvalidPrecondition},
		// §13.1.3 If-Modified-Since, only without If-None-Match, only GET and HEAD
		{"If-Modified-Since the modification date: 304", request("GET", "If-Modified-Since", rfcDate), xyzzy, httpapi.NotModified, nil},
		{"If-Modified-Since later: 304", request("GET", "If-Modified-Since", later), xyzzy, httpapi.NotModified, nil},
		{"If-Modified-Since earlier", request("GET", "If-Modified-Since", earlier), xyzzy, httpapi.Proceed, nil},
		{"If-Modified-Since in asctime form", request("HEAD", "If-Modified-Since", asctime), xyzzy, httpapi.NotModified, nil},
		{"If-Modified-Since compares whole seconds", request("GET", "If-Modified-Since", rfcDate), dated, httpapi.NotModified, nil},
		{"If-Modified-Since invalid is ignored", request("GET", "If-Modified-Since", "Sat, 29 Oct 1994"), xyzzy, httpapi.Proceed, nil},
		{"If-Modified-Since in two lines is ignored", request("GET", "If-Modified-Since", later, "If-Modified-Since", later), xyzzy, httpapi.Proceed, nil},
		{"If-Unmodified-Since in two lines is ignored", request("PUT", "If-Unmodified-Since", earlier, "If-Unmodified-Since", earlier), xyzzy, httpapi.Proceed, nil},
		{"If-Modified-Since as a list in one line is ignored", request("GET", "If-Modified-Since", later+", "+later), xyzzy, httpapi.Proceed, nil},
		{"OPTIONS ignores every precondition", request("OPTIONS", "If-Match", `"other"`), xyzzy, httpapi.Proceed, nil},
		{"If-Modified-Since ignored on a PUT", request("PUT", "If-Modified-Since", later), xyzzy, httpapi.Proceed, nil},
		{"If-None-Match overrides If-Modified-Since", request("GET", "If-None-Match", `"other"`, "If-Modified-Since", later), xyzzy, httpapi.Proceed, nil},
		// order: step 1 decides before step 3
		{"failed If-Match wins over a matching If-None-Match", request("GET", "If-Match", `"other"`, "If-None-Match", `"xyzzy"`), xyzzy, httpapi.PreconditionFailed, nil},
		{"passed If-Match then matching If-None-Match: 304", request("GET", "If-Match", `"xyzzy"`, "If-None-Match", `"xyzzy"`), xyzzy, httpapi.NotModified, nil},
		// the handler's own mistake
		{"current ETag that is not one", request("GET", "If-None-Match", `"x"`), httpapi.Validators{ETag: `xyzzy`}, httpapi.Proceed, httpapi.ErrInvalidETag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := httpapi.EvaluatePreconditions(tc.r, tc.v)
			if tc.errIs != nil {
				assert.ErrorIs(t, err, tc.errIs)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func serveConditional(r *http.Request, v httpapi.Validators, before func(h http.Header)) (*httptest.ResponseRecorder, bool) {
	w := httptest.NewRecorder()
	if before != nil {
		before(w.Header())
	}
	done := httpapi.Conditional(w, r, v)
	if !done {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"id":1}`))
	}
	return w, done
}

func TestConditional_304CarriesOnlyTheAllowedFields(t *testing.T) {
	v := httpapi.Validators{ETag: `"v3"`, LastModified: lastModified}
	w, done := serveConditional(request("GET", "If-None-Match", `"v3"`), v, func(h http.Header) {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", "8")
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Language", "en")
		h.Set("Cache-Control", "public, max-age=60")
		h.Set("Vary", "Accept-Encoding")
		h.Set("Expires", "Sun, 30 Oct 1994 19:43:31 GMT")
		h.Set("Content-Location", "/doc/1")
		h.Set("Link", `</v1/doc>; rel="successor-version"`)
	})
	require.True(t, done)
	assert.Equal(t, http.StatusNotModified, w.Code)
	assert.Empty(t, w.Body.String())
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Language", "Last-Modified"} {
		assert.Empty(t, w.Header().Values(k), k)
	}
	assert.Equal(t, `"v3"`, w.Header().Get("ETag"))
	assert.Equal(t, "public, max-age=60", w.Header().Get("Cache-Control"))
	assert.Equal(t, "Accept-Encoding", w.Header().Get("Vary"))
	assert.Equal(t, "Sun, 30 Oct 1994 19:43:31 GMT", w.Header().Get("Expires"))
	assert.Equal(t, "/doc/1", w.Header().Get("Content-Location"))
	assert.NotEmpty(t, w.Header().Get("Link"), "fields that are not representation metadata stay")
}

func TestConditional_304WithoutETagKeepsLastModified(t *testing.T) {
	w, done := serveConditional(request("GET", "If-Modified-Since", rfcDate), httpapi.Validators{LastModified: lastModified}, nil)
	require.True(t, done)
	assert.Equal(t, http.StatusNotModified, w.Code)
	assert.Equal(t, rfcDate, w.Header().Get("Last-Modified"), "without an ETag, Last-Modified guides the cache")
}

func TestConditional_ProceedSetsTheValidators(t *testing.T) {
	w, done := serveConditional(request("GET"), httpapi.Validators{ETag: `"v3"`, LastModified: lastModified.In(time.FixedZone("x", 3600))}, nil)
	require.False(t, done)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, `"v3"`, w.Header().Get("ETag"))
	assert.Equal(t, rfcDate, w.Header().Get("Last-Modified"), "in GMT whatever the zone")

	w, done = serveConditional(request("GET"), httpapi.Validators{ETag: `"v3"`}, func(h http.Header) { h.Set("ETag", `"v3"`) })
	require.False(t, done)
	assert.Equal(t, []string{`"v3"`}, w.Header().Values("ETag"), "set once")

	w, done = serveConditional(request("PUT", "If-None-Match", "*"), httpapi.Validators{Missing: true}, nil)
	require.False(t, done)
	assert.Empty(t, w.Header().Values("ETag"))
}

func TestConditional_RefusalsAreProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      *http.Request
		v      httpapi.Validators
		status int
	}{
		{"failed If-Match", request("PUT", "If-Match", `"v2"`), httpapi.Validators{ETag: `"v3"`}, http.StatusPreconditionFailed},
		{"matching If-None-Match on a DELETE", request("DELETE", "If-None-Match", `"v3"`), httpapi.Validators{ETag: `"v3"`}, http.StatusPreconditionFailed},
		{"failed If-Unmodified-Since", request("PATCH", "If-Unmodified-Since", earlier), httpapi.Validators{LastModified: lastModified}, http.StatusPreconditionFailed},
		{"malformed If-None-Match", request("GET", "If-None-Match", `v3`), httpapi.Validators{ETag: `"v3"`}, http.StatusBadRequest},
		{"handler's broken ETag", request("GET"), httpapi.Validators{ETag: `v3`}, http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The handler applied a public cache policy first, as the doc
			// says: a refusal must still never be stored by a shared cache.
			w, done := serveConditional(tc.r, tc.v, func(h http.Header) {
				h.Set("ETag", tc.v.ETag)
				h.Set("Cache-Control", "public, max-age=60")
				h.Set("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")
			})
			require.True(t, done)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "one client's refusal is not for a shared cache")
			assert.Empty(t, w.Header().Values("Expires"))
			assert.Equal(t, httpapi.ProblemContentType, w.Header().Get("Content-Type"))
			assert.Empty(t, w.Header().Values("ETag"), "a problem describes no version of the resource")
			m := decode(t, w)
			assert.Equal(t, float64(tc.status), m["status"])
		})
	}
}

// TestConditional_HEADThroughTheServer sends HEAD and GET through a real
// server and ServeMux, which routes HEAD to the GET pattern.
func TestConditional_HEADThroughTheServer(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /doc", func(w http.ResponseWriter, r *http.Request) {
		if httpapi.Conditional(w, r, httpapi.Validators{ETag: `"v3"`, LastModified: lastModified}) {
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		method, inm string
		status      int
	}{{"HEAD", `"v3"`, 304}, {"HEAD", `"v2"`, 200}, {"GET", `W/"v3"`, 304}, {"GET", `"v2"`, 200}} {
		req, err := http.NewRequest(tc.method, srv.URL+"/doc", nil)
		require.NoError(t, err)
		req.Header.Set("If-None-Match", tc.inm)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, tc.status, resp.StatusCode, "%s %s", tc.method, tc.inm)
		assert.Equal(t, `"v3"`, resp.Header.Get("ETag"))
	}
}

func TestConditional_NotModifiedPathDoesNotAllocate(t *testing.T) {
	r := request("GET", "If-None-Match", `"v3"`)
	v := httpapi.Validators{ETag: `"v3"`}
	etag := []string{`"v3"`}
	w := &nopWriter{h: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() {
		clear(w.h)
		w.h["Etag"] = etag // the handler's own field, as for a 200
		if !httpapi.Conditional(w, r, v) {
			t.Fatal("not answered")
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, http.StatusNotModified, w.code)
}

type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

func TestConditionalWrites(t *testing.T) {
	cw, err := httpapi.NewConditionalWrites(httpapi.ConditionalWritesConfig{})
	require.NoError(t, err)
	h := cw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
	}{
		{"PUT without precondition", request("PUT"), 428},
		{"PATCH without precondition", request("PATCH"), 428},
		{"DELETE without precondition", request("DELETE"), 428},
		{"PUT with an empty If-Match is conditional (and fails later)", request("PUT", "If-Match", " "), 204},
		{"PUT with If-Match", request("PUT", "If-Match", `"v1"`), 204},
		{"PUT with If-Unmodified-Since", request("PUT", "If-Unmodified-Since", rfcDate), 204},
		{"PUT creating with If-None-Match: *", request("PUT", "If-None-Match", "*"), 204},
		{"POST is not listed", request("POST"), 204},
		{"GET", request("GET"), 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.r)
			assert.Equal(t, tc.status, w.Code)
			if tc.status == 428 {
				assert.ErrorIs(t, cw.Check(tc.r), httpapi.ErrPreconditionRequired)
				assert.Equal(t, httpapi.ProblemContentType, w.Header().Get("Content-Type"))
				assert.Equal(t, "Precondition Required", decode(t, w)["title"])
			} else {
				assert.NoError(t, cw.Check(tc.r))
			}
		})
	}
}

func TestNewConditionalWrites_RefusesSafeMethods(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "OPTIONS", "TRACE", ""} {
		_, err := httpapi.NewConditionalWrites(httpapi.ConditionalWritesConfig{Methods: []string{"PUT", m}})
		assert.ErrorIs(t, err, httpapi.ErrInvalidConfig, m)
		var ce *httpapi.ConfigError
		assert.ErrorAs(t, err, &ce)
	}
	cw, err := httpapi.NewConditionalWrites(httpapi.ConditionalWritesConfig{Methods: []string{"POST"}})
	require.NoError(t, err)
	assert.ErrorIs(t, cw.Check(request("POST")), httpapi.ErrPreconditionRequired)
	assert.NoError(t, cw.Check(request("PUT")), "only the listed methods")
}
