package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/internal/testenv/testclock"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// withChecksum recomputes a key's checksum, to forge keys that pass Parse.
func withChecksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	var out [6]byte
	for i := 5; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return body + string(out[:])
}

func TestGenerateParse_RoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		token, p, err := apikey.Generate("bk_live")
		require.NoError(t, err)
		assert.Regexp(t, `^bk_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$`, token)
		got, err := apikey.Parse(token, "bk_live")
		require.NoError(t, err)
		assert.Equal(t, p, got)
		assert.False(t, seen[p.ID], "ids are unique")
		seen[p.ID] = true
	}
}

func TestParse_RejectsBadKeys(t *testing.T) {
	token, _, err := apikey.Generate("bk_live")
	require.NoError(t, err)
	flip := func(i int) string {
		b := []byte(token)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", apikey.ErrMalformed},
		{"typo in secret", flip(len("bk_live_") + 12 + 5), apikey.ErrChecksum},
		{"typo in id", flip(len("bk_live_") + 1), apikey.ErrChecksum},
		{"typo in checksum", flip(len(token) - 1), apikey.ErrChecksum},
		{"wrong prefix", "bk_test" + token[len("bk_live"):], apikey.ErrWrongPrefix},
		{"prefix without separator", "bk_liveX" + token[len("bk_live_"):], apikey.ErrWrongPrefix},
		{"truncated", token[:len(token)-1], apikey.ErrMalformed},
		{"extended", token + "a", apikey.ErrMalformed},
		{"huge", strings.Repeat("a", 1<<20), apikey.ErrMalformed},
		{"non-base62", withChecksum(token[:len(token)-7] + "-"), apikey.ErrMalformed},
		{"missing separator", withChecksum("bk_live_" + strings.Repeat("a", 12) + "x" + strings.Repeat("b", 32)), apikey.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apikey.Parse(tc.token, "bk_live")
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, auth.ErrInvalidCredential)
		})
	}
}

func TestGenerate_RejectsBadPrefixes(t *testing.T) {
	for _, p := range []string{"", "Live", "1abc", "bk-live", "bk live", strings.Repeat("a", 33)} {
		_, _, err := apikey.Generate(p)
		assert.ErrorIs(t, err, apikey.ErrBadPrefix, p)
	}
}

func newKeys(t *testing.T) (*apikey.Keys, *apikey.MemoryStore, *testclock.Clock) {
	t.Helper()
	store := &apikey.MemoryStore{}
	c := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	k, err := apikey.New(store, apikey.Config{Prefix: "bk_test", Now: c.Now})
	require.NoError(t, err)
	return k, store, c
}

func TestKeys_Lifecycle(t *testing.T) {
	ctx := context.Background()
	k, store, c := newKeys(t)
	token, rec, err := k.Issue(ctx, apikey.IssueRequest{Owner: "user_1", Name: "ci", Scopes: []string{"orders:read"}, TTL: time.Hour})
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%+v", rec), token[len(token)-38:], "the record never holds the secret")

	got, err := k.Authenticate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, "user_1", got.Owner)
	assert.Equal(t, []string{"orders:read"}, got.Scopes)
	stored, _ := store.Get(ctx, rec.ID)
	assert.Equal(t, c.Now(), stored.LastUsedAt, "first use is recorded")

	c.Advance(10 * time.Second)
	_, err = k.Authenticate(ctx, token)
	require.NoError(t, err)
	stored, _ = store.Get(ctx, rec.ID)
	assert.Equal(t, c.Now().Add(-10*time.Second), stored.LastUsedAt, "last use is written at most once per interval")

	forged := withChecksum(token[:len(token)-7] + flipChar(token[len(token)-7]))
	_, err = k.Authenticate(ctx, forged)
	assert.ErrorIs(t, err, apikey.ErrMismatch, "a valid checksum with a wrong secret")

	_, err = k.Authenticate(ctx, withChecksum("bk_test_"+strings.Repeat("Z", 12)+"_"+strings.Repeat("a", 32)))
	assert.ErrorIs(t, err, apikey.ErrNotFound)

	c.Advance(time.Hour)
	_, err = k.Authenticate(ctx, token)
	assert.ErrorIs(t, err, apikey.ErrExpired)

	token2, rec2, err := k.Issue(ctx, apikey.IssueRequest{Owner: "user_1"})
	require.NoError(t, err)
	require.NoError(t, k.Revoke(ctx, rec2.ID))
	_, err = k.Authenticate(ctx, token2)
	assert.ErrorIs(t, err, apikey.ErrRevoked)
	assert.Len(t, store.List(ctx, "user_1"), 2)
}

func flipChar(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestNew_Validates(t *testing.T) {
	for name, tc := range map[string]struct {
		store apikey.Store
		cfg   apikey.Config
	}{
		"nil store":               {nil, apikey.Config{Prefix: "bk"}},
		"no prefix":               {&apikey.MemoryStore{}, apikey.Config{}},
		"bad prefix":              {&apikey.MemoryStore{}, apikey.Config{Prefix: "Bk-1"}},
		"negative touch interval": {&apikey.MemoryStore{}, apikey.Config{Prefix: "bk", TouchInterval: -time.Second}},
	} {
		_, err := apikey.New(tc.store, tc.cfg)
		assert.ErrorIs(t, err, apikey.ErrInvalidConfig, name)
	}
	k, _, _ := newKeys(t)
	_, _, err := k.Issue(context.Background(), apikey.IssueRequest{})
	assert.Error(t, err, "owner is required")
}

func TestParseAndVerify_AllocateNothing(t *testing.T) {
	token, p, err := apikey.Generate("bk_live")
	require.NoError(t, err)
	rec := apikey.Record{ID: p.ID, Prefix: p.Prefix, Hash: p.Hash()}
	now := time.Now()
	allocs := testing.AllocsPerRun(100, func() {
		parsed, err := apikey.Parse(token, "bk_live")
		if err != nil || apikey.Verify(parsed, &rec, now) != nil {
			panic("verification failed")
		}
	})
	assert.Zero(t, allocs)
}

func FuzzParse(f *testing.F) {
	token, _, _ := apikey.Generate("bk_live")
	f.Add(token)
	f.Add("bk_live_")
	f.Add(strings.Repeat("_", 80))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := apikey.Parse(s, "bk_live")
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidCredential) {
				t.Fatalf("error %v does not wrap ErrInvalidCredential", err)
			}
			return
		}
		if len(p.ID) != apikey.IDLen || len(p.Secret) != apikey.SecretLen || !strings.HasPrefix(s, "bk_live_"+p.ID+"_"+p.Secret) {
			t.Fatalf("accepted %q as %+v", s, p)
		}
	})
}

func Example() {
	keys, err := apikey.New(&apikey.MemoryStore{}, apikey.Config{Prefix: "bk_live"})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	token, _, err := keys.Issue(ctx, apikey.IssueRequest{Owner: "user_42", Name: "deploy bot", Scopes: []string{"deploy"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(token, "bk_live_"), len(token))

	rec, err := keys.Authenticate(ctx, token)
	fmt.Println(rec.Owner, rec.Scopes, err)

	typo := "x" // a mistyped last character (any other than the real one)
	if strings.HasSuffix(token, typo) {
		typo = "y"
	}
	_, err = keys.Authenticate(ctx, token[:len(token)-1]+typo)
	fmt.Println(errors.Is(err, auth.ErrInvalidCredential))
	// Output:
	// true 59
	// user_42 [deploy] <nil>
	// true
}

func BenchmarkVerify(b *testing.B) {
	token, p, _ := apikey.Generate("bk_live")
	rec := apikey.Record{ID: p.ID, Prefix: p.Prefix, Hash: p.Hash()}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		parsed, err := apikey.Parse(token, "bk_live")
		if err != nil || apikey.Verify(parsed, &rec, now) != nil {
			b.Fatal("verification failed")
		}
	}
}
