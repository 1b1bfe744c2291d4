package rediscache

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/cache"
)

func TestParseValueKey(t *testing.T) {
	s := &Store{prefix: "p:"}
	for _, tc := range []struct {
		name, redisKey, key string
		ok                  bool
	}{
		{"plain", "p:{user:v1:42}", "user:v1:42", true},
		{"empty key", "p:{%}", "", true},
		{"escaped", "p:{a%7Bb%7Dc%25}", "a{b}c%", true},
		{"any bytes", "p:{\x00\n\xff}", "\x00\n\xff", true},
		{"lease", "p:{k}:lease", "", false},
		{"other prefix", "q:{k}", "", false},
		{"prefix extended", "p:x:{k}", "", false},
		{"no tag", "p:k", "", false},
		{"empty tag", "p:{}", "", false},
		{"nested brace", "p:{a{b}", "", false},
		{"bad escape", "p:{%zz}", "", false},
		{"lower-case escape", "p:{%7b}", "", false},
		{"truncated escape", "p:{a%7}", "", false},
		{"needless escape", "p:{%61}", "", false},
		{"percent left raw", "p:{a%}", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, ok := parseValueKey(s.prefix, tc.redisKey)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.key, key)
		})
	}
}

func TestInvalidation_FromPushPayload(t *testing.T) {
	s := &Store{prefix: "p:"}
	for _, tc := range []struct {
		name    string
		payload any
		want    cache.Invalidation
		ok      bool
	}{
		{"flush", nil, cache.Invalidation{All: true}, true},
		{"keys", []any{"p:{a}", "p:{a}:lease", "other", "p:{b}"}, cache.Invalidation{Keys: []string{"a", "b"}}, true},
		{"only leases", []any{"p:{a}:lease"}, cache.Invalidation{}, false},
		{"non-string element", []any{int64(1), "p:{a}"}, cache.Invalidation{Keys: []string{"a"}}, true},
		{"RESP2 message", []string{"p:{a}"}, cache.Invalidation{Keys: []string{"a"}}, true},
		{"unknown shape", "p:{a}", cache.Invalidation{All: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, ok := s.invalidation(tc.payload)
			assert.Equal(t, tc.ok, ok)
			if ok {
				assert.Equal(t, tc.want, inv)
			}
		})
	}
}

// FuzzParseValueKey feeds key names as Redis pushes them (any client may
// write any key under the prefix): parsing never panics, accepts exactly the
// spellings the store writes, and round-trips them.
func FuzzParseValueKey(f *testing.F) {
	s := &Store{prefix: "p:"}
	for _, k := range []string{"p:{a}", "p:{%}", "p:{%7B%25}", "p:{a}:lease", "p:{%7", "p:{{}}"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, redisKey string) {
		key, ok := parseValueKey(s.prefix, redisKey)
		if ok && s.valueKey(key) != redisKey {
			t.Fatalf("%q parsed as %q, which the store writes as %q", redisKey, key, s.valueKey(key))
		}
		if back, ok := parseValueKey(s.prefix, s.valueKey(redisKey)); !ok || back != redisKey {
			t.Fatalf("the value key of %q parsed as %q, %v", redisKey, back, ok)
		}
	})
}
