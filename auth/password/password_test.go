package password_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/bedrock-go/bedrock/auth/password"
)

// fast parameters keep the tests quick; the defaults are benchmarked.
var fast = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t testing.TB, cfg password.Config) *password.Hasher {
	t.Helper()
	if cfg.Params == (password.Params{}) {
		cfg.Params = fast
	}
	h, err := password.New(cfg)
	require.NoError(t, err)
	return h
}

func pepperKey(b byte) []byte { return []byte(strings.Repeat(string(rune('a'+b)), 32)) }

func TestHashVerify_RoundTrip(t *testing.T) {
	h := newHasher(t, password.Config{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$"), enc)

	ok, rehash, err := h.Verify(ctx, "correct horse battery staple", enc)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash)

	ok, _, err = h.Verify(ctx, "correct horse battery stapler", enc)
	require.NoError(t, err)
	assert.False(t, ok)

	again, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	assert.NotEqual(t, enc, again, "salts are random")
}

func TestDefaultParams_AreOWASPs(t *testing.T) {
	h, err := password.New(password.Config{})
	require.NoError(t, err)
	enc, err := h.Hash(context.Background(), "pw")
	require.NoError(t, err)
	assert.Regexp(t, `^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, enc)
}

func TestVerify_NFKCNormalisation(t *testing.T) {
	h := newHasher(t, password.Config{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "ﬁnance\u00e9") // ligature fi, precomposed é
	require.NoError(t, err)
	ok, _, err := h.Verify(ctx, "finance"+"e\u0301", enc) // plain fi, combining accent
	require.NoError(t, err)
	assert.True(t, ok, "NFKC-equivalent passwords match")
}

func TestVerify_NeedsRehash(t *testing.T) {
	ctx := context.Background()
	weak := newHasher(t, password.Config{})
	strong := newHasher(t, password.Config{Params: password.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}})
	p1 := password.Pepper{ID: "p1", Key: pepperKey(1)}
	p2 := password.Pepper{ID: "p2", Key: pepperKey(2)}
	peppered1 := newHasher(t, password.Config{Peppers: []password.Pepper{p1}})
	rotated := newHasher(t, password.Config{Peppers: []password.Pepper{p2, p1}})

	weakHash, _ := weak.Hash(ctx, "pw-123456")
	strongHash, _ := strong.Hash(ctx, "pw-123456")
	p1Hash, _ := peppered1.Hash(ctx, "pw-123456")
	p2Hash, _ := rotated.Hash(ctx, "pw-123456")
	bcryptHash, _ := bcrypt.GenerateFromPassword([]byte("pw-123456"), bcrypt.MinCost)

	cases := []struct {
		name   string
		h      *password.Hasher
		stored string
		rehash bool
	}{
		{"same params", weak, weakHash, false},
		{"weaker params", strong, weakHash, true},
		{"stronger params", weak, strongHash, false},
		{"bcrypt is legacy", weak, string(bcryptHash), true},
		{"unpeppered while peppers set", peppered1, weakHash, true},
		{"current pepper", peppered1, p1Hash, false},
		{"retired pepper", rotated, p1Hash, true},
		{"rotated pepper", rotated, p2Hash, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := tc.h.Verify(ctx, "pw-123456", tc.stored)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, tc.rehash, rehash)
		})
	}

	t.Run("peppered hash without its pepper", func(t *testing.T) {
		_, _, err := weak.Verify(ctx, "pw-123456", p1Hash)
		assert.ErrorIs(t, err, password.ErrUnsupportedHash)
	})
	t.Run("pepper changes the hash", func(t *testing.T) {
		ok, _, err := newHasher(t, password.Config{Peppers: []password.Pepper{{ID: "p1", Key: pepperKey(9)}}}).Verify(ctx, "pw-123456", p1Hash)
		require.NoError(t, err)
		assert.False(t, ok, "a wrong pepper key does not verify")
	})
}

func TestVerify_RejectsBadHashesBeforeWork(t *testing.T) {
	h := newHasher(t, password.Config{})
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	cases := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", password.ErrMalformedHash},
		{"plain text", "hunter2", password.ErrMalformedHash},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, password.ErrUnsupportedHash},
		{"wrong version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, password.ErrUnsupportedHash},
		{"4 GiB of memory", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, password.ErrParamsOutOfBounds},
		{"a million passes", "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key, password.ErrParamsOutOfBounds},
		{"255 lanes", "$argon2id$v=19$m=65536,t=1,p=255$" + salt + "$" + key, password.ErrParamsOutOfBounds},
		{"lanes overflow", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key, password.ErrParamsOutOfBounds},
		{"missing t", "$argon2id$v=19$m=64,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"repeated m", "$argon2id$v=19$m=64,m=64,t=1,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"unknown param", "$argon2id$v=19$m=64,t=1,p=1,x=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"zero passes", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key, password.ErrMalformedHash},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "!", password.ErrMalformedHash},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, password.ErrMalformedHash},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x", password.ErrMalformedHash},
		{"huge", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 4096) + "$" + key, password.ErrMalformedHash},
		{"bad pepper id", "$argon2id$v=19$m=64,t=1,p=1,k=a/b$" + salt + "$" + key, password.ErrMalformedHash},
		{"bcrypt cost 31", "$2b$31$" + strings.Repeat("a", 53), password.ErrParamsOutOfBounds},
		{"bcrypt short", "$2b$10$abc", password.ErrMalformedHash},
		{"bcrypt bad cost", "$2b$xx$" + strings.Repeat("a", 53), password.ErrMalformedHash},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "pw", tc.encoded)
			assert.ErrorIs(t, err, tc.want)
			assert.False(t, ok)
			assert.False(t, rehash)
		})
	}
}

func TestBcrypt_MigrationAndLengthLimit(t *testing.T) {
	h := newHasher(t, password.Config{})
	ctx := context.Background()
	for _, variant := range []string{"$2a$", "$2b$", "$2y$"} {
		enc, err := bcrypt.GenerateFromPassword([]byte("legacy-pw"), bcrypt.MinCost)
		require.NoError(t, err)
		stored := variant + string(enc[4:])
		ok, rehash, err := h.Verify(ctx, "legacy-pw", stored)
		require.NoError(t, err, variant)
		assert.True(t, ok, variant)
		assert.True(t, rehash, variant)
		ok, _, err = h.Verify(ctx, "legacy-pX", stored)
		require.NoError(t, err)
		assert.False(t, ok)
	}
	long := strings.Repeat("x", 73)
	enc, err := bcrypt.GenerateFromPassword([]byte(long[:72]), bcrypt.MinCost)
	require.NoError(t, err)
	_, _, err = h.Verify(ctx, long, string(enc))
	assert.ErrorIs(t, err, password.ErrTooLong, "never silently truncated")
}

func TestHash_RejectsOverlongPasswords(t *testing.T) {
	h := newHasher(t, password.Config{})
	_, err := h.Hash(context.Background(), strings.Repeat("a", password.MaxPasswordBytes+1))
	assert.ErrorIs(t, err, password.ErrTooLong)
	_, err = h.Hash(context.Background(), strings.Repeat("a", password.MaxPasswordBytes))
	assert.NoError(t, err)
}

func TestNew_RejectsBadConfig(t *testing.T) {
	cases := map[string]password.Config{
		"params beyond bounds": {Params: password.Params{Memory: 1 << 30, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		"tiny salt":            {Params: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}},
		"12-byte output":       {Params: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 12}},
		"short pepper":         {Peppers: []password.Pepper{{ID: "p", Key: []byte("short")}}},
		"bad pepper id":        {Peppers: []password.Pepper{{ID: "p$1", Key: pepperKey(1)}}},
		"repeated pepper id":   {Peppers: []password.Pepper{{ID: "p", Key: pepperKey(1)}, {ID: "p", Key: pepperKey(2)}}},
		"negative concurrency": {MaxConcurrent: -1},
		"negative hash share":  {MaxConcurrentHash: -1},
		"negative hash queue":  {MaxHashWaiting: -1},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := password.New(cfg)
			assert.ErrorIs(t, err, password.ErrInvalidConfig)
			// A config error is about the config: it names the field and
			// never reads as a problem with a stored hash.
			assert.NotErrorIs(t, err, password.ErrMalformedHash)
			assert.NotErrorIs(t, err, password.ErrParamsOutOfBounds)
			assert.NotContains(t, err.Error(), "malformed")
			assert.NotContains(t, err.Error(), "hash parameters")
		})
	}
}

// TestNew_PartialParamsMergeWithDefaults: Params{Memory: ...} used to be
// taken whole, with Time, Threads, SaltLen and KeyLen zero, and refused
// with "malformed hash: m=65536 t=0 p=0 below argon2's minimum".
func TestNew_PartialParamsMergeWithDefaults(t *testing.T) {
	d := password.DefaultParams()
	cases := map[string]struct {
		in, want password.Params
	}{
		"zero":        {password.Params{}, d},
		"memory only": {password.Params{Memory: 64 * 1024}, password.Params{Memory: 64 * 1024, Time: d.Time, Threads: d.Threads, SaltLen: d.SaltLen, KeyLen: d.KeyLen}},
		"time and threads": {password.Params{Time: 3, Threads: 2},
			password.Params{Memory: d.Memory, Time: 3, Threads: 2, SaltLen: d.SaltLen, KeyLen: d.KeyLen}},
		"whole": {password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16}, password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h, err := password.New(password.Config{Params: tc.in})
			require.NoError(t, err)
			assert.Equal(t, tc.want, h.Params())
		})
	}
	t.Run("a partial field out of range names the field", func(t *testing.T) {
		_, err := password.New(password.Config{Params: password.Params{Memory: 1 << 30}})
		require.ErrorIs(t, err, password.ErrInvalidConfig)
		assert.Contains(t, err.Error(), "Params.Memory")
		assert.NotContains(t, err.Error(), "hash")
	})
}

func TestConcurrencyLimit(t *testing.T) {
	h := newHasher(t, password.Config{MaxConcurrent: 2})
	enc, err := h.Hash(context.Background(), "pw")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var matched atomic.Int32
	for range 32 {
		wg.Go(func() {
			ok, _, err := h.Verify(context.Background(), "pw", enc)
			if assert.NoError(t, err) && ok {
				matched.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(32), matched.Load())

}

func TestVerifyDummy_AnswersLikeVerify(t *testing.T) {
	h := newHasher(t, password.Config{Peppers: []password.Pepper{{ID: "p", Key: pepperKey(1)}}})
	ctx := context.Background()
	stored, err := h.Hash(ctx, "the real one")
	require.NoError(t, err)
	assert.NoError(t, h.VerifyDummy(ctx, "anything"))

	long := strings.Repeat("x", 5000)
	_, _, err = h.Verify(ctx, long, stored)
	assert.ErrorIs(t, err, password.ErrTooLong)
	assert.ErrorIs(t, h.VerifyDummy(ctx, long), password.ErrTooLong, "the same answer as Verify")
}

func TestPolicy(t *testing.T) {
	breached := map[string]bool{"password1": true}
	p := password.Policy{Breached: func(_ context.Context, pw string) (bool, error) { return breached[pw], nil }}
	cases := []struct {
		name string
		pw   string
		want error
	}{
		{"ok", "correct horse", nil},
		{"exactly 8", "12345678", nil},
		{"7 chars", "1234567", password.ErrTooShort},
		{"8 runes of 2 bytes", "éééééééé", nil},
		{"4 runes of 2 bytes", "éééé", password.ErrTooShort},
		{"no composition rules", "aaaaaaaaaaaa", nil},
		{"breached", "password1", password.ErrBreached},
		{"too long", strings.Repeat("a", 1025), password.ErrTooLong},
		{"invalid utf-8", "abcdefgh\xff", password.ErrInvalidUTF8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(context.Background(), tc.pw)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			var pe *password.PolicyError
			assert.ErrorAs(t, err, &pe)
		})
	}
	t.Run("breach check failure is not a policy verdict", func(t *testing.T) {
		failing := password.Policy{Breached: func(context.Context, string) (bool, error) { return false, errors.New("down") }}
		err := failing.Check(context.Background(), "correct horse")
		var pe *password.PolicyError
		assert.Error(t, err)
		assert.False(t, errors.As(err, &pe))
	})
}

func TestCalibrate(t *testing.T) {
	p := password.Calibrate(5*time.Millisecond, 1024)
	assert.Equal(t, uint32(1024), p.Memory)
	assert.GreaterOrEqual(t, p.Time, uint32(2))
	assert.LessOrEqual(t, p.Time, uint32(16))
	_, err := password.New(password.Config{Params: p})
	assert.NoError(t, err, "calibrated parameters are within bounds")
}

func FuzzVerify(f *testing.F) {
	h, err := password.New(password.Config{
		Params: fast,
		Bounds: password.Bounds{MaxMemory: 64, MaxTime: 1, MaxThreads: 1, MaxBcrypt: 4},
	})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := h.Hash(context.Background(), "pw")
	f.Add(good)
	f.Add("$argon2id$v=19$m=64,t=1,p=1,k=a$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA")
	f.Add("$2b$04$" + strings.Repeat("a", 53))
	f.Add("$argon2id$v=19$m=99999999999,t=1,p=1$$")
	f.Add("$argon2id$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNo")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhh\r\nc2hoYXNo")
	f.Fuzz(func(t *testing.T, encoded string) {
		ok, _, err := h.Verify(context.Background(), "pw", encoded)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
		if err == nil && ok && encoded != good {
			// Only a hash of "pw" may verify; any other must be a mismatch.
			ok2, _, _ := h.Verify(context.Background(), "not-pw", encoded)
			if ok2 {
				t.Fatalf("%q verifies two different passwords", encoded)
			}
		}
	})
}

func Example() {
	hasher, err := password.New(password.Config{}) // argon2id, OWASP parameters
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	stored, _ := hasher.Hash(ctx, "correct horse battery staple")

	ok, needsRehash, err := hasher.Verify(ctx, "correct horse battery staple", stored)
	fmt.Println(ok, needsRehash, err)
	// Output: true false <nil>
}

// Example_budgets keeps logins responsive while signups queue: Hash may use
// one of four slots, so three always remain for Verify, and a burst beyond
// eight waiting signups is refused before it costs anything.
func Example_budgets() {
	hasher, err := password.New(password.Config{
		MaxConcurrent:     4, // at most 4 computations, 4 × 19 MiB
		MaxConcurrentHash: 1, // new passwords use one slot at a time
		MaxHashWaiting:    8, // a ninth waiting signup gets ErrBusy at once
	})
	if err != nil {
		panic(err)
	}
	_, err = hasher.Hash(context.Background(), "correct horse battery staple")
	switch {
	case errors.Is(err, password.ErrBusy):
		fmt.Println("503, Retry-After: 1")
	case errors.Is(err, password.ErrTooLong):
		fmt.Println("422")
	case err != nil:
		fmt.Println("500")
	default:
		fmt.Println("201")
	}
	// Output: 201
}

func BenchmarkVerify(b *testing.B) {
	h, err := password.New(password.Config{}) // the defaults, as in production
	require.NoError(b, err)
	enc, err := h.Hash(context.Background(), "correct horse battery staple")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = h.Verify(context.Background(), "correct horse battery staple", enc)
	}
}
