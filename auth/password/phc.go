package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors about stored hashes.
var (
	// ErrMalformedHash means a stored hash is not a valid PHC string or
	// bcrypt hash.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrUnsupportedHash means the algorithm or version is not supported.
	ErrUnsupportedHash = errors.New("password: unsupported hash algorithm or version")
	// ErrParamsOutOfBounds means a stored hash asks for more work or memory
	// than the configured bounds allow; nothing was computed.
	ErrParamsOutOfBounds = errors.New("password: hash parameters out of bounds")
)

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams returns OWASP's argon2id parameters: m=19456 KiB, t=2, p=1,
// a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds limit what a stored hash may ask for. Zero fields take the
// defaults in [DefaultBounds].
type Bounds struct {
	MaxMemory  uint32 // KiB
	MaxTime    uint32
	MaxThreads uint8
	MaxKeyLen  uint32
	MaxSaltLen uint32
	MaxBcrypt  int // highest bcrypt cost accepted
}

// DefaultBounds returns the bounds used when Config.Bounds is zero: 256 MiB,
// 16 passes, 16 lanes, 64-byte keys and salts, bcrypt cost 16.
func DefaultBounds() Bounds {
	return Bounds{MaxMemory: 256 * 1024, MaxTime: 16, MaxThreads: 16, MaxKeyLen: 64, MaxSaltLen: 64, MaxBcrypt: 16}
}

// withDefaults fills the zero fields of p from [DefaultParams].
func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// checkNewParams checks the parameters of a Config, in the words of the
// Config: its errors name the field at fault and never a hash, which
// [Bounds.check] speaks of for stored ones.
func checkNewParams(p Params, b Bounds) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case p.Memory < 8*uint32(p.Threads):
		return fail("Params.Memory %d KiB is under argon2's minimum of 8 KiB per thread (Params.Threads %d)", p.Memory, p.Threads)
	case p.SaltLen < 8:
		return fail("Params.SaltLen %d is under 8 bytes", p.SaltLen)
	case p.KeyLen < minNewKeyLen:
		return fail("Params.KeyLen %d is under %d bytes", p.KeyLen, minNewKeyLen)
	case p.Memory > b.MaxMemory:
		return fail("Params.Memory %d KiB exceeds Bounds.MaxMemory %d KiB", p.Memory, b.MaxMemory)
	case p.Time > b.MaxTime:
		return fail("Params.Time %d exceeds Bounds.MaxTime %d", p.Time, b.MaxTime)
	case p.Threads > b.MaxThreads:
		return fail("Params.Threads %d exceeds Bounds.MaxThreads %d", p.Threads, b.MaxThreads)
	case p.SaltLen > b.MaxSaltLen:
		return fail("Params.SaltLen %d exceeds Bounds.MaxSaltLen %d", p.SaltLen, b.MaxSaltLen)
	case p.KeyLen > b.MaxKeyLen:
		return fail("Params.KeyLen %d exceeds Bounds.MaxKeyLen %d", p.KeyLen, b.MaxKeyLen)
	}
	return nil
}

func (b Bounds) withDefaults() Bounds {
	d := DefaultBounds()
	if b.MaxMemory == 0 {
		b.MaxMemory = d.MaxMemory
	}
	if b.MaxTime == 0 {
		b.MaxTime = d.MaxTime
	}
	if b.MaxThreads == 0 {
		b.MaxThreads = d.MaxThreads
	}
	if b.MaxKeyLen == 0 {
		b.MaxKeyLen = d.MaxKeyLen
	}
	if b.MaxSaltLen == 0 {
		b.MaxSaltLen = d.MaxSaltLen
	}
	if b.MaxBcrypt == 0 {
		b.MaxBcrypt = d.MaxBcrypt
	}
	return b
}

// check reports whether p is within b, and sane at all.
func (b Bounds) check(p Params) error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Time < 1 || p.Threads < 1:
		return fmt.Errorf("%w: m=%d t=%d p=%d below argon2's minimum", ErrMalformedHash, p.Memory, p.Time, p.Threads)
	case p.SaltLen < 8 || p.KeyLen < minKeyLen:
		return fmt.Errorf("%w: salt %d bytes, key %d bytes", ErrMalformedHash, p.SaltLen, p.KeyLen)
	case p.Memory > b.MaxMemory, p.Time > b.MaxTime, p.Threads > b.MaxThreads,
		p.KeyLen > b.MaxKeyLen, p.SaltLen > b.MaxSaltLen:
		return fmt.Errorf("%w: m=%d t=%d p=%d salt=%d key=%d", ErrParamsOutOfBounds,
			p.Memory, p.Time, p.Threads, p.SaltLen, p.KeyLen)
	}
	return nil
}

// minKeyLen is the shortest argon2 output the PHC string format allows; it
// is accepted on verification (with a rehash), and New asks for at least
// minNewKeyLen for new hashes.
const (
	minKeyLen    = 12
	minNewKeyLen = 16
)

// phc is a decoded argon2id PHC string.
type phc struct {
	params   Params
	pepperID string // "" when unpeppered
	salt     []byte
	key      []byte
}

var b64 = base64.RawStdEncoding

// maxPHCLen bounds the input before it is split, so a huge string costs
// nothing.
const maxPHCLen = 512

// encode writes $argon2id$v=19$m=..,t=..,p=..[,k=id]$salt$key.
func (h phc) encode() string {
	var sb strings.Builder
	sb.Grow(96 + b64.EncodedLen(len(h.salt)) + b64.EncodedLen(len(h.key)))
	sb.WriteString("$argon2id$v=19$m=")
	sb.WriteString(strconv.FormatUint(uint64(h.params.Memory), 10))
	sb.WriteString(",t=")
	sb.WriteString(strconv.FormatUint(uint64(h.params.Time), 10))
	sb.WriteString(",p=")
	sb.WriteString(strconv.FormatUint(uint64(h.params.Threads), 10))
	if h.pepperID != "" {
		sb.WriteString(",k=")
		sb.WriteString(h.pepperID)
	}
	sb.WriteByte('$')
	sb.WriteString(b64.EncodeToString(h.salt))
	sb.WriteByte('$')
	sb.WriteString(b64.EncodeToString(h.key))
	return sb.String()
}

// decodePHC parses an argon2id PHC string and checks its parameters against
// bounds before anything is allocated in proportion to them.
func decodePHC(s string, bounds Bounds) (phc, error) {
	var h phc
	if len(s) > maxPHCLen {
		return h, fmt.Errorf("%w: %d bytes", ErrMalformedHash, len(s))
	}
	parts := strings.Split(s, "$")
	if len(parts) == 5 && parts[0] == "" && parts[1] == "argon2id" && isParamList(parts[2]) {
		// The reference decoder reads a missing v= as version 0x10.
		return h, fmt.Errorf("%w: argon2id without v= is version 0x10", ErrUnsupportedHash)
	}
	if len(parts) != 6 || parts[0] != "" {
		return h, fmt.Errorf("%w: want 5 $-separated fields", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: %q", ErrUnsupportedHash, parts[1])
	}
	if parts[2] != "v=19" {
		return h, fmt.Errorf("%w: argon2id version %q", ErrUnsupportedHash, parts[2])
	}
	var seen [4]bool
	for _, kv := range strings.Split(parts[3], ",") {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || value == "" {
			return h, fmt.Errorf("%w: parameter %q", ErrMalformedHash, kv)
		}
		idx := strings.Index("mtpk", name)
		if len(name) != 1 || idx < 0 {
			return h, fmt.Errorf("%w: unknown parameter %q", ErrMalformedHash, name)
		}
		if seen[idx] {
			return h, fmt.Errorf("%w: repeated parameter %q", ErrMalformedHash, name)
		}
		seen[idx] = true
		if name == "k" {
			if !validPepperID(value) {
				return h, fmt.Errorf("%w: pepper id %q", ErrMalformedHash, value)
			}
			h.pepperID = value
			continue
		}
		n, err := parseDecimal(value)
		if err != nil {
			return h, fmt.Errorf("%w: parameter %s: %v", ErrMalformedHash, name, err)
		}
		switch name {
		case "m":
			h.params.Memory = n
		case "t":
			h.params.Time = n
		case "p":
			if n > 255 {
				return h, fmt.Errorf("%w: p=%d", ErrParamsOutOfBounds, n)
			}
			h.params.Threads = uint8(n)
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return h, fmt.Errorf("%w: m, t and p are required", ErrMalformedHash)
	}
	saltLen, keyLen := b64.DecodedLen(len(parts[4])), b64.DecodedLen(len(parts[5]))
	h.params.SaltLen, h.params.KeyLen = uint32(saltLen), uint32(keyLen)
	if err := bounds.check(h.params); err != nil {
		return h, err
	}
	// encoding/base64 skips CR and LF even in strict mode.
	if !isStdBase64(parts[4]) || !isStdBase64(parts[5]) {
		return h, fmt.Errorf("%w: salt or hash outside the base64 alphabet", ErrMalformedHash)
	}
	var err error
	if h.salt, err = b64.Strict().DecodeString(parts[4]); err != nil {
		return h, fmt.Errorf("%w: salt: %v", ErrMalformedHash, err)
	}
	if h.key, err = b64.Strict().DecodeString(parts[5]); err != nil {
		return h, fmt.Errorf("%w: hash: %v", ErrMalformedHash, err)
	}
	return h, nil
}

// parseDecimal parses a canonical unsigned decimal (no sign, no leading
// zero) that fits in 32 bits.
func parseDecimal(s string) (uint32, error) {
	if len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("not a canonical decimal")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.New("not a decimal")
	}
	return uint32(n), nil
}

func validPepperID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isParamList(field string) bool {
	return strings.HasPrefix(field, "m=") || strings.HasPrefix(field, "t=") || strings.HasPrefix(field, "p=")
}

func isStdBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
