package redisclient_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/internal/redisclient"
)

// clusterTag returns what Redis Cluster hashes for key (keyHashSlot in the
// server): the bytes between the first '{' and the first '}' after it when
// there are any, else the whole key.
func clusterTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

// unescape inverts HashTag, to show that no two keys share a tag.
func unescape(tag string) (string, bool) {
	if tag == "%" {
		return "", true
	}
	var b strings.Builder
	for i := 0; i < len(tag); i++ {
		if tag[i] != '%' {
			b.WriteByte(tag[i])
			continue
		}
		if i+3 > len(tag) {
			return "", false
		}
		n, err := strconv.ParseUint(tag[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), true
}

func TestHashTag(t *testing.T) {
	cases := map[string]string{
		"user:7":  "user:7",
		"":        "%",
		"}":       "%7D",
		"}x":      "%7Dx",
		"a{b}c":   "a%7Bb%7Dc",
		"%":       "%25",
		"%7Dx":    "%257Dx",
		"ünïcødé": "ünïcødé",
		"nul\x00": "nul\x00",
	}
	for key, want := range cases {
		t.Run(strconv.Quote(key), func(t *testing.T) {
			assert.Equal(t, want, redisclient.HashTag(key))
		})
	}
}

func TestHashTag_PlainKeysDoNotAllocate(t *testing.T) {
	key := strings.Repeat("k", 40)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = redisclient.HashTag(key) }))
}

// FuzzHashTag holds HashTag to its promise for any key, as a client may
// send: the keys built around the tag share one slot, which is the key's
// own, and distinct keys get distinct tags.
func FuzzHashTag(f *testing.F) {
	for _, s := range []string{"", "}", "{", "}{", "{}", "a}b", "%", "%7D", "%25", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		tag := redisclient.HashTag(key)
		value := "p:{" + tag + "}"
		lease := value + ":lease"
		if clusterTag(value) != tag || clusterTag(lease) != tag {
			t.Fatalf("key %q: tags %q and %q, want %q", key, clusterTag(value), clusterTag(lease), tag)
		}
		back, ok := unescape(tag)
		if !ok || back != key {
			t.Fatalf("key %q: tag %q reads back as %q (%v)", key, tag, back, ok)
		}
	})
}

func BenchmarkHashTag(b *testing.B) {
	b.ReportAllocs()
	for _, key := range []string{"user:1234567", "tenant:{acme}:user:1"} {
		b.Run(key, func(b *testing.B) {
			for b.Loop() {
				_ = redisclient.HashTag(key)
			}
		})
	}
}
