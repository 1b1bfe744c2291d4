package httpsec_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

// chunked hides the length of a body, as a streamed upload does.
type chunked struct{ io.Reader }

func streamed(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", chunked{strings.NewReader(body)})
	r.ContentLength = -1
	return r
}

func mustBodyLimit(t testing.TB, cfg httpsec.BodyLimitConfig) *httpsec.BodyLimit {
	t.Helper()
	b, err := httpsec.NewBodyLimit(cfg)
	require.NoError(t, err)
	return b
}

// echo answers 200 with the body it read, or 400 when reading failed, as a
// JSON handler typically does.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	_, _ = w.Write(body)
})

func TestBodyLimit(t *testing.T) {
	cases := []struct {
		name     string
		req      *http.Request
		want     int
		body     string
		rejected bool
	}{
		{"declared under", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789")), 200, "0123456789", false},
		{"declared over", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789x")), 413, "", true},
		{"streamed exactly at limit", streamed("0123456789"), 200, "0123456789", false},
		{"streamed over", streamed("0123456789x"), 413, "", true},
		{"streamed far over", streamed(strings.Repeat("x", 1<<16)), 413, "", true},
		{"no body", httptest.NewRequest(http.MethodGet, "/", nil), 200, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rejected error
			b := mustBodyLimit(t, httpsec.BodyLimitConfig{MaxBytes: 10, Hooks: httpsec.Hooks{
				OnReject: func(_ *http.Request, err error) { rejected = err },
			}})
			w := serve(b.Handler(echo), tc.req)
			require.Equal(t, tc.want, w.Code)
			if !tc.rejected {
				assert.Equal(t, tc.body, w.Body.String())
				assert.NoError(t, rejected)
				return
			}
			assert.ErrorIs(t, rejected, httpsec.ErrBodyTooLarge)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			assert.Equal(t, "close", w.Header().Get("Connection"))
			var p map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), w.Body.String())
			assert.Equal(t, 413.0, p["status"])
			assert.Equal(t, 10.0, p["max_bytes"])
		})
	}
}

func TestBodyLimit_ReadErrorMatchesBothSentinelAndMaxBytesError(t *testing.T) {
	var readErr error
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{MaxBytes: 4}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))
	serve(h, streamed("too long"))
	require.ErrorIs(t, readErr, httpsec.ErrBodyTooLarge)
	var mbe *http.MaxBytesError
	require.True(t, errors.As(readErr, &mbe))
	assert.Equal(t, int64(4), mbe.Limit)
}

func TestBodyLimit_ResponseAlreadyStartedIsNotReplaced(t *testing.T) {
	var rejected error
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{MaxBytes: 4, Hooks: httpsec.Hooks{
		OnReject: func(_ *http.Request, err error) { rejected = err },
	}}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, err := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "err="+err.Error())
	}))
	w := serve(h, streamed("too long"))
	assert.Equal(t, http.StatusAccepted, w.Code)
	assert.Contains(t, w.Body.String(), "request body too large")
	assert.ErrorIs(t, rejected, httpsec.ErrBodyTooLarge, "the refusal is reported even when no 413 could be sent")
}

// A handler that prepared its response (a gzip stream, a new resource's
// Location and ETag, a session cookie) and then read past the limit gets
// a 413 that carries none of it: those headers describe a response that is
// not sent.
func TestBodyLimit_TooLargeMidReadDropsTheHandlersHeaders(t *testing.T) {
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{MaxBytes: 4}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", "999")
		w.Header().Set("ETag", `"v2"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Header().Set("Location", "/orders/7")
		w.Header().Set("Set-Cookie", "session=abc; HttpOnly")
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Vary", "Accept-Encoding")
		if _, err := io.ReadAll(r.Body); err != nil {
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	w := serve(h, streamed("too long"))
	require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	for _, k := range []string{"Content-Encoding", "Etag", "Last-Modified", "Location", "Set-Cookie"} {
		assert.Empty(t, w.Header().Values(k), k)
	}
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "a shared cache never stores the failure")
	assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
	assert.Equal(t, "Accept-Encoding", w.Header().Get("Vary"), "headers about the request's variants stay")
	var p map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), "the body is plain JSON, not gzip")
	assert.Equal(t, "Content Too Large", p["title"], "RFC 9110's phrase")
	assert.Equal(t, "The request body is larger than 4 bytes.", p["detail"], "a sentence for the client, not the sentinel's text")
}

func TestBodyLimit_WriterKeepsFlushAndUnwrap(t *testing.T) {
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "part")
		require.NoError(t, http.NewResponseController(w).Flush())
	}))
	w := serve(h, streamed("small"))
	assert.True(t, w.Flushed)
	assert.Equal(t, "part", w.Body.String())
}

func TestBodyLimit_DefaultIsOneMiB(t *testing.T) {
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{}).Handler(echo)
	assert.Equal(t, http.StatusOK, serve(h, streamed(strings.Repeat("x", 1<<20))).Code)
	assert.Equal(t, http.StatusRequestEntityTooLarge, serve(h, streamed(strings.Repeat("x", 1<<20+1))).Code)
}

func TestNewBodyLimit_NegativeIsAnError(t *testing.T) {
	b, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: -1})
	assert.Nil(t, b)
	assert.ErrorIs(t, err, httpsec.ErrInvalidConfig)
}

// Over a real connection the oversize answer arrives and the server does
// not wait for the rest of a body it will never read.
func TestBodyLimit_RealServer(t *testing.T) {
	srv := httptest.NewServer(mustBodyLimit(t, httpsec.BodyLimitConfig{MaxBytes: 1024}).Handler(echo))
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(make([]byte, 4096))
		// The rest never comes: a server waiting for it would hang the test.
	}()
	defer pw.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
}

// A full-duplex handler reads on one goroutine while it writes on another;
// the refusal and its writes must not race.
func TestBodyLimit_ConcurrentReadAndWrite(t *testing.T) {
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{MaxBytes: 100}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = io.Copy(io.Discard, r.Body)
		}()
		for range 50 {
			_, _ = w.Write([]byte("x"))
		}
		<-done
	}))
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := serve(h, streamed(strings.Repeat("y", 1000)))
			// Whichever came first wins: the handler's 200 or the refusal.
			if w.Code != http.StatusOK && w.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d", w.Code)
			}
		}()
	}
	wg.Wait()
}

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestBodyLimit_ForwardsCloseAndUnwrap(t *testing.T) {
	body := &closeTracker{Reader: strings.NewReader("abc")}
	rec := httptest.NewRecorder()
	var unwrapped http.ResponseWriter
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.Body.Close())
		unwrapped = w.(interface{ Unwrap() http.ResponseWriter }).Unwrap()
	}))
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Body, r.ContentLength = body, -1
	h.ServeHTTP(rec, r)
	assert.True(t, body.closed)
	assert.Same(t, rec, unwrapped)
}

// One allocation per request with a body: the reader and writer wrappers
// share it. Requests without a body cost nothing.
func TestBodyLimit_Allocations(t *testing.T) {
	h := mustBodyLimit(t, httpsec.BodyLimitConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	w := &discardWriter{h: http.Header{}}
	body := &rewindBody{Reader: strings.NewReader(strings.Repeat("x", 512))}
	r := httptest.NewRequest(http.MethodPost, "/", body)
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		body.rewind(r)
		h.ServeHTTP(w, r)
	}))
	get := httptest.NewRequest(http.MethodGet, "/", nil)
	assert.Zero(t, testing.AllocsPerRun(100, func() { h.ServeHTTP(w, get) }))
}
