package password

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// Errors about passwords and configuration.
var (
	// ErrTooLong means the password exceeds the byte limit (1024 bytes
	// for argon2id, 72 for bcrypt, which would silently truncate it).
	ErrTooLong = errors.New("password: too long")
	// ErrInvalidConfig is wrapped by every error [New] returns for a bad
	// Config.
	ErrInvalidConfig = errors.New("password: invalid config")
	// ErrBusy means [Hasher.Hash] refused to queue: Config.MaxHashWaiting
	// callers were already waiting for a slot. Nothing was computed; answer
	// it as temporary overload (503 with Retry-After).
	ErrBusy = errors.New("password: too many new passwords waiting to be hashed")
)

// MaxPasswordBytes bounds the input to hashing, after NFKC normalisation,
// so that hashing cost cannot be driven up by huge inputs.
const MaxPasswordBytes = 1024

const bcryptMaxBytes = 72

// Pepper is a secret HMAC key applied to passwords before hashing. Keep it
// outside the database (an environment secret, a KMS), so that a stolen
// database alone cannot be attacked offline.
type Pepper struct {
	ID  string // recorded in the hash as k=ID; letters, digits, '-', '_', '.'
	Key []byte // at least 32 bytes
}

// Config configures a [Hasher]. The zero value hashes with
// [DefaultParams], bounds stored hashes with [DefaultBounds], uses no pepper,
// allows GOMAXPROCS concurrent computations and lets [Hasher.Hash] use half
// of them.
type Config struct {
	// Params for new hashes. Each zero field takes its value from
	// [DefaultParams], so Params{Memory: 64 * 1024} changes the memory
	// alone. The result must be within Bounds, have at least 8 KiB of
	// memory per thread, an 8-byte salt and a 16-byte output.
	Params Params
	// Bounds for parameters read from stored hashes; DefaultBounds for zero
	// fields. Params must be within them.
	Bounds Bounds
	// Peppers, current first. Hashes carry the id of the pepper used; a hash
	// made with a later one in the list verifies and needs a rehash. A hash
	// without a pepper verifies (and needs a rehash) while peppers are set.
	Peppers []Pepper
	// MaxConcurrent bounds simultaneous hash computations of every kind
	// (Hash, Verify, VerifyDummy), and so the memory they use: at most
	// MaxConcurrent × Params.Memory for argon2id. GOMAXPROCS when zero.
	MaxConcurrent int
	// MaxConcurrentHash bounds how many of those computations [Hasher.Hash]
	// may run at once. Hash serves signups, password changes and rehashes;
	// keeping it below MaxConcurrent reserves the rest for verification, so
	// logins stay responsive while new passwords queue. Half of
	// MaxConcurrent (at least 1) when zero; a value of MaxConcurrent or more
	// lets Hash use every slot. With MaxConcurrent 1 nothing can be
	// reserved.
	MaxConcurrentHash int
	// MaxHashWaiting bounds how many Hash calls may wait for their share;
	// one more fails at once with [ErrBusy], so that a burst of signups is
	// turned away before it costs anything instead of queueing until its
	// deadlines. Unbounded when zero: callers wait until their context ends.
	MaxHashWaiting int
}

// Hasher hashes and verifies passwords. Most callers want [Hasher.Verify]
// at login (and a fresh [Hasher.Hash] when it says needsRehash),
// [Hasher.Hash] at signup, and [Hasher.VerifyDummy] for an unknown account,
// so that timing does not tell it from a known one. It is safe for
// concurrent use.
type Hasher struct {
	params  Params
	bounds  Bounds
	peppers []Pepper
	// slots is held by every computation; hashSlots is held by Hash in
	// addition (taken first), so Hash can never occupy more than its share
	// of slots.
	slots          chan struct{}
	hashSlots      chan struct{}
	maxHashWaiting int64
	hashWaiting    atomic.Int64
	// kdf is argon2id; tests wrap it to count or hold computations.
	kdf func(pw, salt []byte, p Params) []byte
	// bcrypt is bcrypt.CompareHashAndPassword, behind the same seam.
	bcrypt func(hash, pw []byte) error

	dummyOnce sync.Once
	dummy     phc
}

// New returns a Hasher for cfg, or an error wrapping [ErrInvalidConfig].
func New(cfg Config) (*Hasher, error) {
	cfg.Params = cfg.Params.withDefaults()
	bounds := cfg.Bounds.withDefaults()
	if err := checkNewParams(cfg.Params, bounds); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range cfg.Peppers {
		if !validPepperID(p.ID) || seen[p.ID] {
			return nil, fmt.Errorf("%w: pepper id %q invalid or repeated", ErrInvalidConfig, p.ID)
		}
		if len(p.Key) < 32 {
			return nil, fmt.Errorf("%w: pepper %q key is %d bytes, want at least 32", ErrInvalidConfig, p.ID, len(p.Key))
		}
		seen[p.ID] = true
	}
	if cfg.MaxConcurrent < 0 || cfg.MaxConcurrentHash < 0 || cfg.MaxHashWaiting < 0 {
		return nil, fmt.Errorf("%w: negative MaxConcurrent, MaxConcurrentHash or MaxHashWaiting", ErrInvalidConfig)
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxConcurrentHash == 0 {
		cfg.MaxConcurrentHash = max(1, cfg.MaxConcurrent/2)
	}
	return &Hasher{
		params:         cfg.Params,
		bounds:         bounds,
		peppers:        cfg.Peppers,
		slots:          make(chan struct{}, cfg.MaxConcurrent),
		hashSlots:      make(chan struct{}, min(cfg.MaxConcurrentHash, cfg.MaxConcurrent)),
		maxHashWaiting: int64(cfg.MaxHashWaiting),
		kdf:            argon2id,
		bcrypt:         bcrypt.CompareHashAndPassword,
	}, nil
}

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password under the current parameters and
// pepper. A password over [MaxPasswordBytes] after NFKC normalisation is
// refused with [ErrTooLong] before any work or wait. Otherwise Hash
// waits for one of its share of slots (Config.MaxConcurrentHash) and then
// for a free slot; it returns [ErrBusy] at once when Config.MaxHashWaiting
// callers already wait, or ctx's error when ctx ends first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	pw, err := normalize(password)
	if err != nil {
		return "", err
	}
	rec := phc{params: h.params, salt: make([]byte, h.params.SaltLen)}
	rand.Read(rec.salt)
	if len(h.peppers) > 0 {
		rec.pepperID = h.peppers[0].ID
		pw = pepper(h.peppers[0].Key, pw)
	}
	if err := h.acquireHashShare(ctx); err != nil {
		return "", err
	}
	defer func() { <-h.hashSlots }()
	if rec.key, err = h.argon2(ctx, pw, rec.salt, rec.params); err != nil {
		return "", err
	}
	return rec.encode(), nil
}

// Verify reports whether password matches encoded, an argon2id PHC string
// or a bcrypt hash. needsRehash is true after a match when encoded should be
// replaced by a fresh [Hasher.Hash]: weaker parameters than the current ones,
// a bcrypt hash, or a pepper that is not the current one. A malformed or
// out-of-bounds hash returns an error and no work is done.
//
// A password over [MaxPasswordBytes] after NFKC normalisation never
// matches: Verify returns an error wrapping [ErrTooLong], but only
// after a full argon2id computation, exactly as [Hasher.VerifyDummy] does
// for the same input. Every password, however hostile (over-long before or
// after normalisation, invalid UTF-8, NUL bytes), costs one computation and
// gets the same class of answer from both, so a login handler that answers
// every failure alike does not reveal which accounts exist.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	if isBcrypt(encoded) {
		return h.verifyBcrypt(ctx, password, encoded)
	}
	rec, err := decodePHC(encoded, h.bounds)
	if err != nil {
		return false, false, err
	}
	key := []byte(nil)
	if rec.pepperID != "" {
		var found bool
		if key, found = h.pepperKey(rec.pepperID); !found {
			return false, false, fmt.Errorf("%w: unknown pepper %q", ErrUnsupportedHash, rec.pepperID)
		}
	}
	got, inputErr, err := h.verifyWork(ctx, password, key, rec.salt, rec.params)
	if err != nil {
		return false, false, err
	}
	match := subtle.ConstantTimeCompare(got, rec.key) == 1
	if inputErr != nil || !match {
		return false, false, inputErr
	}
	return true, h.weaker(rec), nil
}

// VerifyDummy spends the time of a verification at the current parameters
// and always reports a mismatch. Call it when the user does not exist, so
// that neither the response time nor the error tells which accounts exist:
// for every password it does the work [Hasher.Verify] does for that password
// against an argon2id hash, and returns the same class of error (nil, or
// [ErrTooLong] when Verify would return it, or the context's error).
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() {
		h.dummy = phc{params: h.params, salt: make([]byte, h.params.SaltLen), key: make([]byte, h.params.KeyLen)}
		rand.Read(h.dummy.salt)
		rand.Read(h.dummy.key)
	})
	var key []byte
	if len(h.peppers) > 0 {
		key = h.peppers[0].Key
	}
	got, inputErr, err := h.verifyWork(ctx, password, key, h.dummy.salt, h.dummy.params)
	if err != nil {
		return err
	}
	subtle.ConstantTimeCompare(got, h.dummy.key)
	return inputErr
}

// verifyWork is the one path of Verify and VerifyDummy: prepare the
// password, pepper it, run argon2id. inputErr is the password's own fault,
// reported after the work so that refusing costs what accepting costs; err
// means no work was done (the context ended while waiting for a slot).
func (h *Hasher) verifyWork(ctx context.Context, password string, pepperKey, salt []byte, p Params) (got []byte, inputErr, err error) {
	pw, inputErr := prepare(password)
	if pepperKey != nil {
		pw = pepper(pepperKey, pw)
	}
	got, err = h.argon2(ctx, pw, salt, p)
	return got, inputErr, err
}

func (h *Hasher) weaker(rec phc) bool {
	cur := h.params
	if rec.params.Memory < cur.Memory || rec.params.Time < cur.Time || rec.params.Threads < cur.Threads ||
		rec.params.SaltLen < cur.SaltLen || rec.params.KeyLen < cur.KeyLen {
		return true
	}
	if len(h.peppers) == 0 {
		return rec.pepperID != ""
	}
	return rec.pepperID != h.peppers[0].ID
}

func (h *Hasher) pepperKey(id string) ([]byte, bool) {
	for _, p := range h.peppers {
		if p.ID == id {
			return p.Key, true
		}
	}
	return nil, false
}

// argon2 runs argon2id holding a slot.
func (h *Hasher) argon2(ctx context.Context, pw, salt []byte, p Params) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	return h.kdf(pw, salt, p), nil
}

func argon2id(pw, salt []byte, p Params) []byte {
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", context.Cause(ctx))
	}
}

func (h *Hasher) release() { <-h.slots }

// acquireHashShare takes one of Hash's share of slots.
func (h *Hasher) acquireHashShare(ctx context.Context) error {
	select {
	case h.hashSlots <- struct{}{}:
		return nil
	default:
	}
	if h.maxHashWaiting > 0 {
		if h.hashWaiting.Add(1) > h.maxHashWaiting {
			h.hashWaiting.Add(-1)
			return ErrBusy
		}
		defer h.hashWaiting.Add(-1)
	}
	select {
	case h.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a slot for a new hash: %w", context.Cause(ctx))
	}
}

func (h *Hasher) verifyBcrypt(ctx context.Context, password, encoded string) (bool, bool, error) {
	cost, err := bcryptCost(encoded)
	if err != nil {
		return false, false, err
	}
	if cost > h.bounds.MaxBcrypt {
		return false, false, fmt.Errorf("%w: bcrypt cost %d", ErrParamsOutOfBounds, cost)
	}
	// bcrypt reads only 72 bytes; a longer password is refused, never
	// truncated, but only after a comparison, so refusing costs what
	// answering costs.
	var inputErr error
	if len(password) > bcryptMaxBytes {
		inputErr = fmt.Errorf("%w: bcrypt uses only the first %d bytes", ErrTooLong, bcryptMaxBytes)
		password = password[:bcryptMaxBytes]
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	err = h.bcrypt([]byte(encoded), []byte(password))
	switch {
	case inputErr != nil:
		return false, false, inputErr
	case err == nil:
		return true, true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
}

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// bcryptCost reads the cost of a $2x$NN$... hash without trusting it.
func bcryptCost(s string) (int, error) {
	if len(s) != 60 || s[6] != '$' {
		return 0, fmt.Errorf("%w: bcrypt hash must be 60 bytes", ErrMalformedHash)
	}
	cost, err := strconv.Atoi(s[4:6])
	if err != nil || cost < bcrypt.MinCost {
		return 0, fmt.Errorf("%w: bcrypt cost %q", ErrMalformedHash, s[4:6])
	}
	return cost, nil
}

// prepare returns the bytes Verify hashes for password. A password that
// normalize refuses still yields bytes (its first MaxPasswordBytes), so that
// refusing it takes one argon2id computation like any other password; the
// error says it can never match.
func prepare(password string) ([]byte, error) {
	pw, err := normalize(password)
	if err != nil {
		return []byte(password[:min(len(password), MaxPasswordBytes)]), err
	}
	return pw, nil
}

func normalize(password string) ([]byte, error) {
	if len(password) > 4*MaxPasswordBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLong, MaxPasswordBytes)
	}
	pw := norm.NFKC.Bytes([]byte(password))
	if len(pw) > MaxPasswordBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLong, MaxPasswordBytes)
	}
	return pw, nil
}

func pepper(key, pw []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(pw)
	return m.Sum(nil)
}
