package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/bedrock-go/bedrock/auth"
)

// Sizes of the parts of a key, in characters.
const (
	IDLen       = 12
	SecretLen   = 32
	checksumLen = 6
	maxPrefix   = 32
	// MaxKeyLen bounds what Parse looks at.
	MaxKeyLen = maxPrefix + 1 + IDLen + 1 + SecretLen + checksumLen
)

// Errors about a presented key. Each wraps [auth.ErrInvalidCredential].
var (
	ErrMalformed   = fmt.Errorf("apikey: malformed key: %w", auth.ErrInvalidCredential)
	ErrChecksum    = fmt.Errorf("apikey: checksum mismatch: %w", auth.ErrInvalidCredential)
	ErrWrongPrefix = fmt.Errorf("apikey: wrong prefix: %w", auth.ErrInvalidCredential)
	ErrNotFound    = fmt.Errorf("apikey: unknown key: %w", auth.ErrInvalidCredential)
	ErrMismatch    = fmt.Errorf("apikey: wrong secret: %w", auth.ErrInvalidCredential)
	ErrRevoked     = fmt.Errorf("apikey: revoked: %w", auth.ErrInvalidCredential)
	ErrExpired     = fmt.Errorf("apikey: expired: %w", auth.ErrInvalidCredential)
)

// prefixRule says which prefixes generate keys.
const prefixRule = "1 to 32 characters of a-z, 0-9 and '_', starting with a letter"

// ErrBadPrefix is returned by [Generate] for a prefix that cannot be used to
// generate keys. ([New] refuses such a Config.Prefix with
// [ErrInvalidConfig].)
var ErrBadPrefix = errors.New("apikey: prefix must be " + prefixRule)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Parsed is a syntactically valid key, split into its parts. Its fields are
// substrings of the presented key; parsing allocates nothing.
type Parsed struct {
	Prefix string
	ID     string
	Secret string
}

// Hash returns the SHA-256 of the secret, the value a store keeps.
func (p Parsed) Hash() [32]byte { return sha256.Sum256([]byte(p.Secret)) }

// Generate returns a new key with prefix. The token is shown to its owner
// once; store only the returned Parsed's ID and Hash.
func Generate(prefix string) (token string, p Parsed, err error) {
	if !validPrefix(prefix) {
		return "", Parsed{}, ErrBadPrefix
	}
	var b strings.Builder
	b.Grow(len(prefix) + 2 + IDLen + SecretLen + checksumLen)
	b.WriteString(prefix)
	b.WriteByte('_')
	randomBase62(&b, IDLen)
	b.WriteByte('_')
	randomBase62(&b, SecretLen)
	body := b.String()
	b.WriteString(checksum(body))
	token = b.String()
	p, err = Parse(token, prefix)
	return token, p, err
}

// Parse splits token into its parts and checks its prefix, its shape and its
// checksum. It touches no store. Errors wrap [ErrMalformed], [ErrWrongPrefix]
// or [ErrChecksum]; all of them wrap [auth.ErrInvalidCredential].
func Parse(token, prefix string) (Parsed, error) {
	if len(token) > MaxKeyLen || len(token) < len(prefix)+2+IDLen+SecretLen+checksumLen {
		return Parsed{}, ErrMalformed
	}
	if !strings.HasPrefix(token, prefix) || token[len(prefix)] != '_' {
		return Parsed{}, ErrWrongPrefix
	}
	rest := token[len(prefix)+1:]
	if len(rest) != IDLen+1+SecretLen+checksumLen || rest[IDLen] != '_' {
		return Parsed{}, ErrMalformed
	}
	id, secret, sum := rest[:IDLen], rest[IDLen+1:IDLen+1+SecretLen], rest[IDLen+1+SecretLen:]
	if !isBase62(id) || !isBase62(secret) || !isBase62(sum) {
		return Parsed{}, ErrMalformed
	}
	if !checksumMatches(token[:len(token)-checksumLen], sum) {
		return Parsed{}, ErrChecksum
	}
	return Parsed{Prefix: prefix, ID: id, Secret: secret}, nil
}

// checksum is the CRC-32 (IEEE) of s in 6 base62 digits.
func checksum(s string) string {
	var out [checksumLen]byte
	encodeChecksum(&out, crc(s))
	return string(out[:])
}

// checksumMatches compares without allocating, for the verification path.
func checksumMatches(body, sum string) bool {
	var out [checksumLen]byte
	encodeChecksum(&out, crc(body))
	return string(out[:]) == sum
}

func encodeChecksum(out *[checksumLen]byte, n uint32) {
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
}

// crc is CRC-32 (IEEE) over a string, without converting it to []byte.
func crc(s string) uint32 {
	c := ^uint32(0)
	for i := 0; i < len(s); i++ {
		c = crc32.IEEETable[byte(c)^s[i]] ^ (c >> 8)
	}
	return ^c
}

func randomBase62(b *strings.Builder, n int) {
	// Rejection sampling keeps every character uniform: bytes >= 248 (the
	// largest multiple of 62 below 256) are drawn again.
	var buf [64]byte
	for n > 0 {
		rand.Read(buf[:])
		for _, c := range buf {
			if c >= 248 || n == 0 {
				continue
			}
			b.WriteByte(alphabet[c%62])
			n--
		}
	}
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func validPrefix(p string) bool {
	if p == "" || len(p) > maxPrefix || p[0] < 'a' || p[0] > 'z' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
