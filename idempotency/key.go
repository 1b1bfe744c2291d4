package idempotency

import (
	"errors"
	"fmt"
)

// KeyHeader is the request header that carries the idempotency key.
const KeyHeader = "Idempotency-Key"

// MaxKeyLength is the longest Idempotency-Key accepted, in bytes.
const MaxKeyLength = 255

// Errors returned by [ParseKey].
var (
	// ErrKeyMissing means the request carries no Idempotency-Key.
	ErrKeyMissing = errors.New("idempotency: missing Idempotency-Key")
	// ErrKeyInvalid means the key is empty, too long, or has a character
	// outside printable ASCII.
	ErrKeyInvalid = errors.New("idempotency: invalid Idempotency-Key")
)

// ParseKey validates the value of an Idempotency-Key header: 1 to 255
// printable ASCII characters (0x20 to 0x7E). The draft defines the field as
// a structured-field string, so a value in double quotes is unquoted first
// (with \" and \\ escapes); a bare token is accepted as it is, since most
// clients send one. It returns [ErrKeyMissing] for an absent header and an
// error wrapping [ErrKeyInvalid] otherwise.
func ParseKey(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", ErrKeyMissing
	case 1:
	default:
		return "", fmt.Errorf("%w: the header appears %d times", ErrKeyInvalid, len(values))
	}
	v := values[0]
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		s, err := unquote(v[1 : len(v)-1])
		if err != nil {
			return "", err
		}
		v = s
	}
	if v == "" {
		return "", fmt.Errorf("%w: empty", ErrKeyInvalid)
	}
	if len(v) > MaxKeyLength {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrKeyInvalid, len(v), MaxKeyLength)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("%w: byte 0x%02x at %d is not printable ASCII", ErrKeyInvalid, c, i)
		}
	}
	return v, nil
}

func unquote(s string) (string, error) {
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			i++
			if i == len(s) || (s[i] != '"' && s[i] != '\\') {
				return "", fmt.Errorf("%w: bad escape in quoted key", ErrKeyInvalid)
			}
			buf = append(buf, s[i])
		case '"':
			return "", fmt.Errorf("%w: unescaped quote in quoted key", ErrKeyInvalid)
		default:
			buf = append(buf, c)
		}
	}
	return string(buf), nil
}
