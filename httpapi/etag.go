package httpapi

import (
	"fmt"
	"strconv"

	"github.com/bedrock-go/bedrock/internal/httpfield"
)

// ETag is an entity tag (RFC 9110 §8.8.3): an opaque string and whether it
// is weak. Opaque is the tag without its quotes; its bytes are etagc
// (%x21 / %x23-7E / obs-text). The zero ETag is the strong tag `""`.
type ETag struct {
	Opaque string // the tag between the quotes
	Weak   bool   // written W/"..."; weak tags match only under weak comparison
}

// ParseETag parses one entity tag, `"xyz"` or `W/"xyz"`, with no
// surrounding whitespace. An error wraps [ErrInvalidETag].
func ParseETag(s string) (ETag, error) {
	e, rest, err := cutETag(s)
	if err != errNone {
		return ETag{}, fmt.Errorf("%w: %s", ErrInvalidETag, err.reason())
	}
	if rest != "" {
		return ETag{}, fmt.Errorf("%w: text after the closing quote", ErrInvalidETag)
	}
	return e, nil
}

// String returns the tag as a field value: `"xyz"` or `W/"xyz"`.
func (e ETag) String() string {
	if e.Weak {
		return `W/"` + e.Opaque + `"`
	}
	return `"` + e.Opaque + `"`
}

// StrongMatch reports whether e and o match under strong comparison
// (RFC 9110 §8.8.3.2): both strong and the same opaque tag. If-Match uses it.
func (e ETag) StrongMatch(o ETag) bool { return !e.Weak && !o.Weak && e.Opaque == o.Opaque }

// WeakMatch reports whether e and o match under weak comparison: the same
// opaque tag, weak or not. If-None-Match uses it.
func (e ETag) WeakMatch(o ETag) bool { return e.Opaque == o.Opaque }

// ETagFromVersion returns the strong entity tag of a version number, such
// as `"v42"`, for the ETag field: the seam between a version column (txn's
// optimistic locking) and HTTP. [VersionFromETag] and [VersionFromIfMatch]
// read it back. A negative version has no tag and returns "".
func ETagFromVersion(version int64) string {
	if version < 0 {
		return ""
	}
	var buf [24]byte
	b := append(buf[:0], '"', 'v')
	b = strconv.AppendInt(b, version, 10)
	b = append(b, '"')
	return string(b)
}

// VersionFromETag returns the version of a strong entity tag written by
// [ETagFromVersion], and false for anything else (a weak tag, a tag of
// another format, a number with a sign or a leading zero).
func VersionFromETag(etag string) (int64, bool) {
	e, err := ParseETag(etag)
	if err != nil || e.Weak {
		return 0, false
	}
	return versionOf(e.Opaque)
}

// versionOf recognises the opaque part of an [ETagFromVersion] tag: "v"
// and a non-negative decimal integer without sign or leading zeros, so
// that one version has exactly one tag.
func versionOf(opaque string) (int64, bool) {
	if len(opaque) < 2 || opaque[0] != 'v' {
		return 0, false
	}
	digits := opaque[1:]
	if digits[0] < '0' || digits[0] > '9' || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// VersionFromIfMatch reads the version a client expects from an If-Match
// field value, for a versioned update (txn's Versioned.Update takes it).
// "*" returns anyVersion = true: the client accepts whatever version exists. In a
// list, the one version among the strong tags written by [ETagFromVersion]
// is returned; weak tags never match (If-Match compares strongly) and other
// tags are ignored. A request with several If-Match lines passes them
// joined with ", " (net/http's Header.Get returns the first only). Errors wrap [ErrPreconditionRequired] (empty field:
// 428), [ErrInvalidPrecondition] (bad syntax: 400) or
// [ErrPreconditionFailed] (no single version of ours: 412).
func VersionFromIfMatch(field string) (version int64, anyVersion bool, err error) {
	s := httpfield.TrimOWS(field)
	if s == "" {
		return 0, false, ErrPreconditionRequired
	}
	if s == "*" {
		return 0, true, nil
	}
	found, other := false, int64(-1)
	for l := (tagList{rest: s}); ; {
		e, ok, perr := l.next()
		if perr != errNone {
			// Refused whole, whatever it named before the error.
			return 0, false, fmt.Errorf("%w: If-Match: %s", ErrInvalidPrecondition, perr.reason())
		}
		if !ok {
			break
		}
		v, ours := versionOf(e.Opaque)
		switch {
		case !ours || e.Weak:
		case !found:
			found, version = true, v
		case v != version:
			other = v
		}
	}
	switch {
	case !found:
		return 0, false, fmt.Errorf("%w: If-Match names no strong entity tag of a version", ErrPreconditionFailed)
	case other >= 0:
		return 0, false, fmt.Errorf("%w: If-Match names several versions (%d and %d)", ErrPreconditionFailed, version, other)
	}
	return version, false, nil
}

// parseError is a syntax error found without allocating: the hot path
// tests it for nil, and only a refusal builds a message.
type parseError uint8

const (
	errNone parseError = iota
	errNoQuote
	errBadChar
	errUnterminated
	errNoComma
	errStarInList
)

func (e parseError) reason() string {
	switch e {
	case errNoQuote:
		return `entity tag must start with '"' or 'W/"'`
	case errBadChar:
		return "invalid character in entity tag"
	case errUnterminated:
		return "unterminated entity tag"
	case errNoComma:
		return "expected ',' between entity tags"
	case errStarInList:
		return `"*" must stand alone`
	}
	return "invalid"
}

// cutETag splits s, which must start with an entity tag, into the tag and
// the rest. The opaque tag is a substring of s: nothing is copied.
func cutETag(s string) (ETag, string, parseError) {
	var e ETag
	if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
		e.Weak, s = true, s[2:]
	}
	if s == "" || s[0] != '"' {
		return ETag{}, "", errNoQuote
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			e.Opaque = s[1:i]
			return e, s[i+1:], errNone
		case c == 0x21, c >= 0x23 && c <= 0x7e, c >= 0x80: // etagc
		default:
			return ETag{}, "", errBadChar
		}
	}
	return ETag{}, "", errUnterminated
}

// tagList iterates over the entity tags of an If-Match or If-None-Match
// field value that is not "*" (RFC 9110 §5.6.1: empty elements allowed,
// whitespace around commas), without allocating.
type tagList struct{ rest string }

// next returns the next tag, or ok = false at the end of the list.
func (l *tagList) next() (e ETag, ok bool, err parseError) {
	s := l.rest
	for {
		s = httpfield.TrimOWS(s)
		if s == "" {
			l.rest = ""
			return ETag{}, false, errNone
		}
		if s[0] != ',' {
			break
		}
		s = s[1:]
	}
	if s[0] == '*' {
		return ETag{}, false, errStarInList
	}
	e, s, err = cutETag(s)
	if err != errNone {
		return ETag{}, false, err
	}
	s = httpfield.TrimOWS(s)
	if s != "" && s[0] != ',' {
		return ETag{}, false, errNoComma
	}
	l.rest = s
	return e, true, errNone
}

// listMatches reports whether a list field (not "*") names a tag that
// matches current, weakly or strongly.
func listMatches(field string, current ETag, weak bool) (bool, parseError) {
	matched := false
	for l := (tagList{rest: field}); ; {
		e, ok, err := l.next()
		if err != errNone {
			return false, err
		}
		if !ok {
			return matched, errNone
		}
		// Keep reading after a match: a list with a syntax error later on
		// is refused whole, whatever it names first.
		if weak && e.WeakMatch(current) || !weak && e.StrongMatch(current) {
			matched = true
		}
	}
}
