package txn

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/bedrock-go/bedrock/internal/httpfield"
)

var (
	// ErrPreconditionRequired reports a request without an If-Match header
	// where one is required: HTTP 428 Precondition Required.
	ErrPreconditionRequired = errors.New("txn: If-Match header required")

	// ErrPreconditionFailed reports an If-Match header that cannot match the
	// current version: weak or foreign entity tags only, or several versions
	// at once (a single versioned update checks one). HTTP 412
	// Precondition Failed.
	ErrPreconditionFailed = errors.New("txn: If-Match precondition cannot match")

	// ErrInvalidIfMatch reports an If-Match header that is not valid
	// syntax: HTTP 400 Bad Request.
	ErrInvalidIfMatch = errors.New("txn: malformed If-Match header")
)

// ETag returns the strong entity tag for a version, such as "\"v42\"",
// for the ETag response header. [ParseIfMatch] reads it back.
func ETag(version int64) string {
	var buf [24]byte
	b := append(buf[:0], '"', 'v')
	b = strconv.AppendInt(b, version, 10)
	b = append(b, '"')
	return string(b)
}

// ParseIfMatch reads the version a client expects from an If-Match header
// value (RFC 9110, section 13.1.1), for [Versioned.Update] and
// [Versioned.Delete]. "*" returns [AnyVersion]. A list of entity tags
// returns the one version among them written by [ETag]; weak tags never
// match (If-Match uses strong comparison) and tags not written by [ETag]
// are ignored. Errors wrap [ErrPreconditionRequired] (empty header),
// [ErrInvalidIfMatch] (bad syntax) or [ErrPreconditionFailed] (no single
// version of ours).
func ParseIfMatch(header string) (int64, error) {
	s := httpfield.TrimOWS(header)
	if s == "" {
		return 0, ErrPreconditionRequired
	}
	if s == "*" {
		return AnyVersion, nil
	}
	found, version := false, int64(0)
	for len(s) > 0 {
		if s[0] == ',' { // the #rule allows empty list elements
			s = httpfield.TrimOWS(s[1:])
			continue
		}
		weak := false
		if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
			weak, s = true, s[2:]
		}
		tag, rest, err := cutEntityTag(s)
		if err != nil {
			return 0, err
		}
		if v, ok := parseOurTag(tag); ok && !weak {
			if found && v != version {
				return 0, fmt.Errorf("%w: several versions (%d and %d)", ErrPreconditionFailed, version, v)
			}
			found, version = true, v
		}
		s = httpfield.TrimOWS(rest)
		if s != "" {
			if s[0] != ',' {
				return 0, fmt.Errorf("%w: expected ',' after an entity tag", ErrInvalidIfMatch)
			}
			s = httpfield.TrimOWS(s[1:])
		}
	}
	if !found {
		return 0, fmt.Errorf("%w: no strong entity tag of a version", ErrPreconditionFailed)
	}
	return version, nil
}

// cutEntityTag splits s, which must start with an opaque-tag (a quoted
// string of etagc characters), into the tag's content and the rest.
func cutEntityTag(s string) (tag, rest string, err error) {
	if s == "" || s[0] != '"' {
		return "", "", fmt.Errorf("%w: entity tag must start with '\"'", ErrInvalidIfMatch)
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return s[1:i], s[i+1:], nil
		case c == 0x21, c >= 0x23 && c <= 0x7e, c >= 0x80: // etagc = %x21 / %x23-7E / obs-text
		default:
			return "", "", fmt.Errorf("%w: invalid character %q in entity tag", ErrInvalidIfMatch, c)
		}
	}
	return "", "", fmt.Errorf("%w: unterminated entity tag", ErrInvalidIfMatch)
}

// parseOurTag recognises the content of an [ETag]: "v" and a non-negative
// decimal integer without sign or leading zeros.
func parseOurTag(tag string) (int64, bool) {
	if len(tag) < 2 || tag[0] != 'v' {
		return 0, false
	}
	digits := tag[1:]
	if digits[0] < '0' || digits[0] > '9' || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}
