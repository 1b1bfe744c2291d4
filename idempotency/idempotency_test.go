package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/idempotency/idempotencytest"
)

func TestMemoryStore_SweepsExpiredRecords(t *testing.T) {
	clock := idempotencytest.NewClock(time.Unix(0, 0))
	s := idempotency.NewMemoryStore(clock.Now)
	ctx := t.Context()
	for i := range 100 {
		_, err := s.Begin(ctx, string(rune('a'+i%26))+strings.Repeat("x", i), idempotency.Fingerprint{}, time.Second)
		require.NoError(t, err)
	}
	require.Equal(t, 100, s.Len())
	clock.Advance(2 * time.Second)
	for range 100 {
		_, err := s.Begin(ctx, "fresh", idempotency.Fingerprint{}, time.Second)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, s.Len(), "expired records are swept")
}

func TestParseKey(t *testing.T) {
	cases := []struct {
		name    string
		values  []string
		want    string
		wantErr error
	}{
		{"token", []string{"8e03978e-40d5-43e8-bc93-6894a57f9324"}, "8e03978e-40d5-43e8-bc93-6894a57f9324", nil},
		{"structured string", []string{`"abc def"`}, "abc def", nil},
		{"escaped quote", []string{`"a\"b"`}, `a"b`, nil},
		{"max length", []string{strings.Repeat("k", 255)}, strings.Repeat("k", 255), nil},
		{"missing", nil, "", idempotency.ErrKeyMissing},
		{"empty", []string{""}, "", idempotency.ErrKeyInvalid},
		{"empty quoted", []string{`""`}, "", idempotency.ErrKeyInvalid},
		{"too long", []string{strings.Repeat("k", 256)}, "", idempotency.ErrKeyInvalid},
		{"control char", []string{"a\tb"}, "", idempotency.ErrKeyInvalid},
		{"non-ascii", []string{"clé"}, "", idempotency.ErrKeyInvalid},
		{"repeated header", []string{"a", "b"}, "", idempotency.ErrKeyInvalid},
		{"bad escape", []string{`"a\b"`}, "", idempotency.ErrKeyInvalid},
		{"inner quote", []string{`"a"b"`}, "", idempotency.ErrKeyInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := idempotency.ParseKey(tc.values)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	store := idempotency.NewMemoryStore(nil)
	cases := map[string]struct {
		store idempotency.Store
		cfg   idempotency.Config
	}{
		"nil store":        {nil, idempotency.Config{}},
		"negative ttl":     {store, idempotency.Config{LockTTL: -1}},
		"negative size":    {store, idempotency.Config{MaxResponseBytes: -1}},
		"no methods":       {store, idempotency.Config{Methods: []string{}}},
		"empty method":     {store, idempotency.Config{Methods: []string{""}}},
		"negative retain":  {store, idempotency.Config{Retention: -time.Second}},
		"negative req max": {store, idempotency.Config{MaxRequestBytes: -5}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := idempotency.NewMiddleware(tc.store, tc.cfg)
			assert.ErrorIs(t, err, idempotency.ErrInvalidConfig)
		})
	}
}

func TestResponse_EncodingRoundTrips(t *testing.T) {
	cases := []*idempotency.Response{
		{Status: 200, Header: http.Header{}, Body: []byte{}},
		{Status: 201, Header: http.Header{"Location": {"/a"}, "Set-Cookie": {"a=1", "b=2"}}, Body: []byte("\x00body")},
		{Status: 410, Header: http.Header{}, Body: []byte{}, BodyOmitted: true},
	}
	for _, in := range cases {
		raw, err := in.MarshalBinary()
		require.NoError(t, err)
		var out idempotency.Response
		require.NoError(t, out.UnmarshalBinary(raw))
		assert.Equal(t, in, &out)
	}
	_, err := (&idempotency.Response{Status: 1000}).MarshalBinary()
	assert.Error(t, err)
}

func TestResponse_CorruptInputIsATypedError(t *testing.T) {
	good, err := (&idempotency.Response{Status: 200, Header: http.Header{"A": {"b"}}, Body: []byte("x")}).MarshalBinary()
	require.NoError(t, err)
	for i := range len(good) {
		var r idempotency.Response
		err := r.UnmarshalBinary(good[:i])
		assert.True(t, errors.Is(err, idempotency.ErrCorruptRecord), "prefix %d: %v", i, err)
	}
	var r idempotency.Response
	assert.ErrorIs(t, r.UnmarshalBinary(append(good, 0)), idempotency.ErrCorruptRecord)
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"abc", `"a\"b"`, "", `"`, `""`, strings.Repeat("z", 300), "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		key, err := idempotency.ParseKey([]string{v})
		if err != nil {
			if !errors.Is(err, idempotency.ErrKeyInvalid) {
				t.Fatalf("error %v is not ErrKeyInvalid", err)
			}
			return
		}
		if len(key) == 0 || len(key) > idempotency.MaxKeyLength {
			t.Fatalf("accepted key of length %d", len(key))
		}
		for i := 0; i < len(key); i++ {
			if key[i] < 0x20 || key[i] > 0x7e {
				t.Fatalf("accepted byte %#x", key[i])
			}
		}
	})
}

func FuzzResponseUnmarshal(f *testing.F) {
	good, _ := (&idempotency.Response{Status: 201, Header: http.Header{"A": {"b", "c"}}, Body: []byte("body")}).MarshalBinary()
	f.Add(good)
	f.Add([]byte{1, 0, 0, 200, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r idempotency.Response
		if err := r.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, idempotency.ErrCorruptRecord) {
				t.Fatalf("error %v is not ErrCorruptRecord", err)
			}
			return
		}
		again, err := r.MarshalBinary()
		if err != nil {
			return // a status outside 100..999 decodes but is refused on encode
		}
		var r2 idempotency.Response
		if err := r2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
	})
}

func serveOnce(h http.Handler, key []string, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(body))
	for _, k := range key {
		r.Header.Add(idempotency.KeyHeader, k)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Every problem the middleware writes speaks to the client: a type of its
// own with a title, a detail in plain words, never a Go error string, and
// never the client's key echoed back.
func TestMiddleware_ProblemsSpeakToClients(t *testing.T) {
	okHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	slow, started := make(chan struct{}), make(chan struct{})
	inProgress := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { close(started); <-slow })
	tooBig := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 100)))
	})
	newMW := func(cfg idempotency.Config, next http.Handler) http.Handler {
		mw, err := idempotency.NewMiddleware(idempotency.NewMemoryStore(nil), cfg)
		require.NoError(t, err)
		return mw.Handler(next)
	}
	type want struct {
		status int
		typ    string
		detail string // a word the detail must contain
	}
	hostileKey := strings.Repeat("K", 300)
	cases := []struct {
		name string
		run  func() *httptest.ResponseRecorder
		want want
	}{
		{"missing", func() *httptest.ResponseRecorder {
			return serveOnce(newMW(idempotency.Config{Required: true}, okHandler), nil, "a")
		}, want{400, idempotency.ProblemMissingKey, "requires"}},
		{"repeated header", func() *httptest.ResponseRecorder {
			return serveOnce(newMW(idempotency.Config{}, okHandler), []string{"a", "b"}, "a")
		}, want{400, idempotency.ProblemInvalidKey, "once"}},
		{"too long", func() *httptest.ResponseRecorder {
			return serveOnce(newMW(idempotency.Config{}, okHandler), []string{hostileKey}, "a")
		}, want{400, idempotency.ProblemInvalidKey, "255"}},
		{"control character", func() *httptest.ResponseRecorder {
			return serveOnce(newMW(idempotency.Config{}, okHandler), []string{"a\x01b"}, "a")
		}, want{400, idempotency.ProblemInvalidKey, "printable"}},
		{"bad quoting", func() *httptest.ResponseRecorder {
			return serveOnce(newMW(idempotency.Config{}, okHandler), []string{`"a\b"`}, "a")
		}, want{400, idempotency.ProblemInvalidKey, "printable"}},
		{"body too large", func() *httptest.ResponseRecorder {
			return serveOnce(newMW(idempotency.Config{MaxRequestBytes: 4}, okHandler), []string{"k"}, "12345")
		}, want{413, idempotency.ProblemBodyTooLarge, "4 bytes"}},
		{"reused for another request", func() *httptest.ResponseRecorder {
			h := newMW(idempotency.Config{}, okHandler)
			serveOnce(h, []string{"k"}, "a")
			return serveOnce(h, []string{"k"}, "b")
		}, want{422, idempotency.ProblemMismatch, "different request"}},
		{"in progress", func() *httptest.ResponseRecorder {
			h := newMW(idempotency.Config{}, inProgress)
			done := make(chan struct{})
			go func() {
				defer close(done)
				serveOnce(h, []string{"k"}, "a")
			}()
			<-started // the handler runs: the first request holds the key
			w := serveOnce(h, []string{"k"}, "a")
			close(slow)
			<-done
			return w
		}, want{409, idempotency.ProblemInProgress, "still being processed"}},
		{"response not stored", func() *httptest.ResponseRecorder {
			h := newMW(idempotency.Config{MaxResponseBytes: 10}, tooBig)
			serveOnce(h, []string{"k"}, "a")
			return serveOnce(h, []string{"k"}, "a")
		}, want{410, idempotency.ProblemNotStored, "too large to store"}},
		{"store down", func() *httptest.ResponseRecorder {
			mw, err := idempotency.NewMiddleware(failingStore{}, idempotency.Config{})
			require.NoError(t, err)
			return serveOnce(mw.Handler(okHandler), []string{"k"}, "a")
		}, want{503, idempotency.ProblemUnavailable, "retry"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.run()
			require.Equal(t, tc.want.status, w.Code, w.Body.String())
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			var p map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Equal(t, tc.want.typ, p["type"])
			assert.NotEmpty(t, p["title"])
			assert.NotContains(t, []any{http.StatusText(tc.want.status), "Content Too Large", "Unprocessable Content"}, p["title"],
				"a type of its own has a title of its own")
			detail, _ := p["detail"].(string)
			assert.Contains(t, detail, tc.want.detail)
			assert.NotContains(t, detail, "idempotency:", "not a Go error string")
			assert.NotContains(t, w.Body.String(), "KKKKKKKK", "the client's key is not echoed")
			assert.True(t, strings.HasSuffix(detail, "."), "a sentence: %q", detail)
		})
	}
}

type failingStore struct{}

func (failingStore) Begin(context.Context, string, idempotency.Fingerprint, time.Duration) (idempotency.Lookup, error) {
	return idempotency.Lookup{}, errors.New("dial tcp 10.0.0.6:6379: connection refused")
}

func (failingStore) Complete(context.Context, string, string, *idempotency.Response, time.Duration) error {
	return nil
}

func (failingStore) Release(context.Context, string, string) error { return nil }

// Issue 20, item 5: any account could make the service keep ~1 MB per
// request. By default a response is stored only up to 64 KiB; a larger one
// reaches its client, is recorded without its body, and a repeat gets 410
// saying so rather than a second run.
func TestMiddleware_DefaultStoresResponsesUpTo64KiB(t *testing.T) {
	for _, tc := range []struct {
		size   int
		stored bool
	}{{64 << 10, true}, {64<<10 + 1, false}, {1 << 20, false}} {
		t.Run(strconv.Itoa(tc.size), func(t *testing.T) {
			runs := 0
			mw, err := idempotency.NewMiddleware(idempotency.NewMemoryStore(nil), idempotency.Config{})
			require.NoError(t, err)
			h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				runs++
				w.WriteHeader(http.StatusBadRequest) // a stored 4xx, as a validation problem is
				_, _ = w.Write([]byte(strings.Repeat("e", tc.size)))
			}))
			first := serveOnce(h, []string{"k"}, "a")
			assert.Equal(t, tc.size, first.Body.Len(), "the first client always gets the whole answer")
			again := serveOnce(h, []string{"k"}, "a")
			assert.Equal(t, 1, runs, "never a second run")
			if tc.stored {
				assert.Equal(t, http.StatusBadRequest, again.Code)
				assert.Equal(t, first.Body.String(), again.Body.String())
				return
			}
			assert.Equal(t, http.StatusGone, again.Code)
			assert.Contains(t, again.Body.String(), "too large to store")
		})
	}
}
