package totp_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/totp"
)

// RFC 6238 Appendix B: the seeds are the ASCII digits repeated to the hash
// size; 8-digit codes at six times.
var rfcSeeds = map[totp.Algorithm]string{
	totp.SHA1:   "12345678901234567890",
	totp.SHA256: "12345678901234567890123456789012",
	totp.SHA512: "1234567890123456789012345678901234567890123456789012345678901234",
}

var rfcVectors = []struct {
	unix                 int64
	sha1, sha256, sha512 string
}{
	{59, "94287082", "46119246", "90693936"},
	{1111111109, "07081804", "68084774", "25091201"},
	{1111111111, "14050471", "67062674", "99943326"},
	{1234567890, "89005924", "91819424", "93441116"},
	{2000000000, "69279037", "90698825", "38618901"},
	{20000000000, "65353130", "77737706", "47863826"},
}

func rfcKey(alg totp.Algorithm) *totp.Key {
	return &totp.Key{Issuer: "Example", Account: "alice", Secret: []byte(rfcSeeds[alg]),
		Algorithm: alg, Digits: 8, Period: 30 * time.Second}
}

func TestCode_RFC6238AppendixB(t *testing.T) {
	for _, v := range rfcVectors {
		want := map[totp.Algorithm]string{totp.SHA1: v.sha1, totp.SHA256: v.sha256, totp.SHA512: v.sha512}
		for alg, code := range want {
			t.Run(alg.String()+"/"+time.Unix(v.unix, 0).UTC().Format(time.RFC3339), func(t *testing.T) {
				got, err := totp.Code(rfcKey(alg), time.Unix(v.unix, 0))
				require.NoError(t, err)
				assert.Equal(t, code, got)
			})
		}
	}
}

func TestVerify_RFC6238AppendixB(t *testing.T) {
	for _, v := range rfcVectors {
		at := time.Unix(v.unix, 0)
		a := newAuth(t, totp.Config{Now: func() time.Time { return at }})
		for alg, code := range map[totp.Algorithm]string{totp.SHA1: v.sha1, totp.SHA256: v.sha256, totp.SHA512: v.sha512} {
			step, err := a.Verify(rfcKey(alg), code, 0)
			require.NoError(t, err, "%v at %d", alg, v.unix)
			assert.Equal(t, v.unix/30, step)
		}
	}
}

func newAuth(t *testing.T, cfg totp.Config) *totp.Authenticator {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = "Example"
	}
	a, err := totp.New(cfg)
	require.NoError(t, err)
	return a
}

const now = 1_700_000_000 // a multiple of 30 plus 20: step 56666666

func TestVerify_Skew(t *testing.T) {
	key := rfcKey(totp.SHA1)
	current := int64(now / 30)
	tests := []struct {
		name  string
		skew  int
		delta int64 // the code's step relative to now
		ok    bool
	}{
		{"previous step accepted", 0, -1, true},
		{"current step accepted", 0, 0, true},
		{"next step accepted", 0, +1, true},
		{"two steps back refused", 0, -2, false},
		{"two steps ahead refused", 0, +2, false},
		{"no skew refuses previous", -1, -1, false},
		{"no skew accepts current", -1, 0, true},
		{"skew 2 accepts two back", 2, -2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, totp.Config{Skew: tt.skew, Now: func() time.Time { return time.Unix(now, 0) }})
			code, err := totp.Code(key, time.Unix((current+tt.delta)*30, 0))
			require.NoError(t, err)
			step, err := a.Verify(key, code, 0)
			if !tt.ok {
				assert.ErrorIs(t, err, totp.ErrWrongCode)
				assert.ErrorIs(t, err, auth.ErrInvalidCredential)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, current+tt.delta, step)
		})
	}
}

func TestVerify_ReplayRefused(t *testing.T) {
	key := rfcKey(totp.SHA1)
	at := time.Unix(now, 0)
	a := newAuth(t, totp.Config{Now: func() time.Time { return at }})
	code, err := totp.Code(key, at)
	require.NoError(t, err)

	step, err := a.Verify(key, code, 0)
	require.NoError(t, err)
	_, err = a.Verify(key, code, step)
	assert.ErrorIs(t, err, totp.ErrReplay, "the same code twice")
	assert.ErrorIs(t, err, auth.ErrInvalidCredential)

	prev, err := totp.Code(key, at.Add(-30*time.Second))
	require.NoError(t, err)
	_, err = a.Verify(key, prev, step)
	assert.ErrorIs(t, err, totp.ErrReplay, "an earlier step after a later one was used")

	next, err := totp.Code(key, at.Add(30*time.Second))
	require.NoError(t, err)
	got, err := a.Verify(key, next, step)
	require.NoError(t, err, "a later step is still usable")
	assert.Equal(t, step+1, got)
}

func TestVerify_BadInput(t *testing.T) {
	a := newAuth(t, totp.Config{Now: func() time.Time { return time.Unix(now, 0) }})
	key6 := rfcKey(totp.SHA1)
	key6.Digits = 6
	tests := []struct {
		name string
		key  *totp.Key
		code string
		want error
	}{
		{"empty", key6, "", totp.ErrMalformedCode},
		{"too short", key6, "12345", totp.ErrMalformedCode},
		{"too long", key6, "1234567", totp.ErrMalformedCode},
		{"eight digits for a six-digit key", key6, "12345678", totp.ErrMalformedCode},
		{"letters", key6, "12a456", totp.ErrMalformedCode},
		{"spaces", key6, "123 56", totp.ErrMalformedCode},
		{"sign", key6, "+12345", totp.ErrMalformedCode},
		{"non-ASCII digit", key6, "12345٣", totp.ErrMalformedCode},
		{"huge", key6, strings.Repeat("1", 1<<16), totp.ErrMalformedCode},
		{"wrong code", key6, "000000", totp.ErrWrongCode},
		{"nil key", nil, "123456", totp.ErrInvalidKey},
		{"short secret", &totp.Key{Secret: make([]byte, 19), Digits: 6, Period: 30 * time.Second}, "123456", totp.ErrInvalidKey},
		{"seven digits", &totp.Key{Secret: make([]byte, 20), Digits: 7, Period: 30 * time.Second}, "1234567", totp.ErrInvalidKey},
		{"zero period", &totp.Key{Secret: make([]byte, 20), Digits: 6}, "123456", totp.ErrInvalidKey},
		{"fractional period", &totp.Key{Secret: make([]byte, 20), Digits: 6, Period: 1500 * time.Millisecond}, "123456", totp.ErrInvalidKey},
		{"unknown algorithm", &totp.Key{Secret: make([]byte, 20), Algorithm: 9, Digits: 6, Period: 30 * time.Second}, "123456", totp.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == totp.ErrWrongCode {
				// The key and the time are fixed: the code of the case must
				// be a wrong one for them (and for the skew window).
				for _, d := range []int64{-30, 0, 30} {
					c, err := totp.Code(tt.key, time.Unix(now+d, 0))
					require.NoError(t, err)
					require.NotEqual(t, c, tt.code, "the case's code is right at %+ds", d)
				}
			}
			_, err := a.Verify(tt.key, tt.code, 0)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestNew_InvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  totp.Config
	}{
		{"no issuer", totp.Config{}},
		{"issuer with colon", totp.Config{Issuer: "a:b"}},
		{"long issuer", totp.Config{Issuer: strings.Repeat("x", 257)}},
		{"unknown algorithm", totp.Config{Issuer: "x", Algorithm: 3}},
		{"seven digits", totp.Config{Issuer: "x", Digits: 7}},
		{"negative period", totp.Config{Issuer: "x", Period: -time.Second}},
		{"fractional period", totp.Config{Issuer: "x", Period: 1500 * time.Millisecond}},
		{"long period", totp.Config{Issuer: "x", Period: totp.MaxPeriod + time.Second}},
		{"skew too large", totp.Config{Issuer: "x", Skew: totp.MaxSkew + 1}},
		{"skew below -1", totp.Config{Issuer: "x", Skew: -2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := totp.New(tt.cfg)
			assert.ErrorIs(t, err, totp.ErrInvalidConfig)
		})
	}
}

func TestNewKey_DefaultsAndSecretSizes(t *testing.T) {
	for alg, size := range map[totp.Algorithm]int{totp.SHA1: 20, totp.SHA256: 32, totp.SHA512: 64} {
		a := newAuth(t, totp.Config{Algorithm: alg})
		k, err := a.NewKey("alice@example.com")
		require.NoError(t, err)
		assert.Len(t, k.Secret, size)
		assert.Equal(t, 6, k.Digits)
		assert.Equal(t, 30*time.Second, k.Period)
		assert.Equal(t, "Example", k.Issuer)
		require.NoError(t, k.Validate())
	}
	a := newAuth(t, totp.Config{})
	k1, _ := a.NewKey("a")
	k2, _ := a.NewKey("a")
	assert.NotEqual(t, k1.Secret, k2.Secret)
	for _, bad := range []string{"", " alice", "alice ", strings.Repeat("a", 257)} {
		_, err := a.NewKey(bad)
		assert.ErrorIs(t, err, totp.ErrInvalidKey, "%q", bad)
	}
	_, err := totp.GenerateSecret(7)
	assert.ErrorIs(t, err, totp.ErrInvalidKey)
}

// Enrollment is confirmed by a first code; the step it returns is stored.
func TestEnrollment_ConfirmedByFirstCode(t *testing.T) {
	at := time.Unix(now, 0)
	a := newAuth(t, totp.Config{Now: func() time.Time { return at }})
	k, err := a.NewKey("alice")
	require.NoError(t, err)
	parsed, err := totp.ParseURI(k.URI()) // what the app reads
	require.NoError(t, err)
	code, err := totp.Code(parsed, at)
	require.NoError(t, err)
	step, err := a.Verify(k, code, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(now/30), step)
}

func TestKey_StepBeforeEpoch(t *testing.T) {
	k := rfcKey(totp.SHA1)
	assert.Equal(t, int64(-1), k.Step(time.Unix(-1, 0)))
	assert.Equal(t, int64(0), k.Step(time.Unix(29, 0)))
	a := newAuth(t, totp.Config{Now: func() time.Time { return time.Unix(0, 0) }})
	_, err := a.Verify(k, "00000000", 0)
	assert.True(t, errors.Is(err, totp.ErrWrongCode) || errors.Is(err, totp.ErrReplay))
}

// An Authenticator is shared by every request: Verify from many goroutines
// (run under -race).
func TestVerify_Concurrent(t *testing.T) {
	at := time.Unix(now, 0)
	a := newAuth(t, totp.Config{Now: func() time.Time { return at }})
	key := rfcKey(totp.SHA256)
	code, err := totp.Code(key, at)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := a.Verify(key, code, 0)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// RFC 4226 Appendix D (HOTP, SHA-1, 6 digits): with a 1 s period the step
// is the counter, so the HOTP vectors check the truncation as well.
func TestCode_RFC4226AppendixD(t *testing.T) {
	key := &totp.Key{Secret: []byte("12345678901234567890"), Digits: 6, Period: time.Second}
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for counter, code := range want {
		got, err := totp.Code(key, time.Unix(int64(counter), 0))
		require.NoError(t, err)
		assert.Equal(t, code, got, "counter %d", counter)
	}
}
