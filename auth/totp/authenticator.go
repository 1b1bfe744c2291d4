package totp

import (
	"crypto/hmac"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"
)

// Config configures an Authenticator. The zero value is usable except for
// Issuer, which is required.
type Config struct {
	// Issuer names the service in authenticator apps ("Example Corp"). It
	// is required, at most 256 bytes, and may not contain ':' (the label
	// separator of otpauth URIs).
	Issuer string
	// Algorithm is the HMAC hash of new keys. The zero value is SHA1, the
	// only one every authenticator app supports.
	Algorithm Algorithm
	// Digits is the code length of new keys: 6 or 8. Zero means 6.
	Digits int
	// Period is the time step of new keys, whole seconds up to MaxPeriod.
	// Zero means 30 s, the RFC 6238 default and the only period many apps
	// support.
	Period time.Duration
	// Skew is how many steps before and after the current one Verify
	// accepts, for clock drift and typing time. Zero means 1 (RFC 6238
	// §5.2 recommends at most one); -1 means none; at most MaxSkew.
	Skew int
	// Now returns the current time. Nil means time.Now; tests set it.
	Now func() time.Time
}

// Authenticator makes keys and verifies codes with one Config. It holds no
// per-user state: the caller stores each key and its last used step. It is
// safe for concurrent use.
type Authenticator struct {
	issuer    string
	algorithm Algorithm
	digits    int
	period    time.Duration
	skew      int64
	now       func() time.Time
}

// New returns an Authenticator for cfg, or an error wrapping
// ErrInvalidConfig.
func New(cfg Config) (*Authenticator, error) {
	a := &Authenticator{issuer: cfg.Issuer, algorithm: cfg.Algorithm, digits: cfg.Digits,
		period: cfg.Period, skew: int64(cfg.Skew), now: cfg.Now}
	if a.digits == 0 {
		a.digits = 6
	}
	if a.period == 0 {
		a.period = 30 * time.Second
	}
	switch {
	case cfg.Skew == 0:
		a.skew = 1
	case cfg.Skew == -1:
		a.skew = 0
	}
	if a.now == nil {
		a.now = time.Now
	}
	switch {
	case cfg.Issuer == "" || len(cfg.Issuer) > maxLabel || strings.Contains(cfg.Issuer, ":"):
		return nil, fmt.Errorf("%w: Issuer must be 1 to %d bytes without ':'", ErrInvalidConfig, maxLabel)
	case !cfg.Algorithm.valid():
		return nil, fmt.Errorf("%w: unknown Algorithm %v", ErrInvalidConfig, cfg.Algorithm)
	case a.digits != 6 && a.digits != 8:
		return nil, fmt.Errorf("%w: Digits must be 6 or 8, not %d", ErrInvalidConfig, cfg.Digits)
	case !validPeriod(a.period):
		return nil, fmt.Errorf("%w: Period must be whole seconds from 1s to %v, not %v", ErrInvalidConfig, MaxPeriod, cfg.Period)
	case a.skew < 0 || a.skew > MaxSkew:
		return nil, fmt.Errorf("%w: Skew must be -1 to %d, not %d", ErrInvalidConfig, MaxSkew, cfg.Skew)
	}
	return a, nil
}

// NewKey returns a key for account with a fresh random secret and the
// Config's parameters. Show key.URI to the user (as a QR code or text);
// enrollment is complete once Verify accepts a first code from the app.
// The error wraps ErrInvalidKey for an empty or over-long account, or one
// with leading or trailing spaces (apps drop them, so the URI would not
// read back the same).
func (a *Authenticator) NewKey(account string) (*Key, error) {
	if account == "" || len(account) > maxLabel || strings.TrimSpace(account) != account {
		return nil, fmt.Errorf("%w: account must be 1 to %d bytes without surrounding spaces", ErrInvalidKey, maxLabel)
	}
	secret, err := GenerateSecret(a.algorithm)
	if err != nil {
		return nil, err
	}
	return &Key{Issuer: a.issuer, Account: account, Secret: secret,
		Algorithm: a.algorithm, Digits: a.digits, Period: a.period}, nil
}

// Verify checks code against key at the current time, accepting the steps
// within Config.Skew of the current one. lastUsedStep is the step the
// caller stored after the last accepted code (0 if none): a code whose step
// is not later is refused with ErrReplay, so each code works once.
//
// On success Verify returns the matched step; the caller must store it as
// the key's new lastUsedStep before treating the user as authenticated
// (atomically with the check if two logins can race, such as with
// UPDATE ... WHERE last_step < $step). Errors: ErrMalformedCode,
// ErrWrongCode and ErrReplay wrap auth.ErrInvalidCredential and should
// count as failed attempts toward a rate limit; ErrInvalidKey means the
// stored key is unusable.
//
// The code is compared in constant time against every step in the window.
func (a *Authenticator) Verify(key *Key, code string, lastUsedStep int64) (int64, error) {
	if err := key.Validate(); err != nil {
		return 0, err
	}
	if !wellFormed(code, key.Digits) {
		return 0, ErrMalformedCode
	}
	now := key.Step(a.now())
	var buf [8]byte
	given := []byte(code)
	mac := hmac.New(key.Algorithm.hash(), key.Secret)
	matched, replayed := int64(-1), false
	for s := now - a.skew; s <= now+a.skew; s++ {
		if s < 0 {
			continue
		}
		if subtle.ConstantTimeCompare(key.codeAt(mac, &buf, s), given) == 1 {
			if s > lastUsedStep {
				matched = s
			} else {
				replayed = true
			}
		}
	}
	switch {
	case matched >= 0:
		return matched, nil
	case replayed:
		return 0, ErrReplay
	}
	return 0, ErrWrongCode
}

// wellFormed reports whether code is exactly n ASCII digits. Its timing
// depends only on the length, which the attacker chose.
func wellFormed(code string, n int) bool {
	if len(code) != n {
		return false
	}
	bad := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		bad |= subtle.ConstantTimeLessOrEq(int(c), '0'-1) | subtle.ConstantTimeLessOrEq('9'+1, int(c))
	}
	return bad == 0
}
