package idempotency_test

import (
	"errors"
	"net/http"
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
			_, err := idempotency.New(tc.store, tc.cfg)
			assert.ErrorIs(t, err, idempotency.ErrConfig)
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
