package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of JSON values in a token.
const maxDepth = 32

// maxMembers bounds the members of a header or claims object, which keeps
// the duplicate check cheap.
const maxMembers = 64

// eachMember calls fn for every member of the JSON object b, in order, with
// the member name (unescaped) and its raw value. It refuses anything that is
// not exactly one well-formed object, and duplicate member names, compared
// ignoring ASCII case, since encoding/json matches fields that way: a second
// "SUB" must not be able to override "sub".
func eachMember(b []byte, fn func(key, value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrTokenMalformed)
	}
	i = skipSpace(b, i+1)
	var small [16][]byte
	seen := small[:0]
	if i < len(b) && b[i] == '}' {
		return trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return fmt.Errorf("%w: expected a member name", ErrTokenMalformed)
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				return fmt.Errorf("%w: member name", ErrTokenMalformed)
			}
			key = []byte(s)
		}
		for _, k := range seen {
			if bytes.EqualFold(k, key) {
				return fmt.Errorf("%w: duplicate member %q", ErrTokenMalformed, key)
			}
		}
		if len(seen) == maxMembers {
			return fmt.Errorf("%w: more than %d members", ErrTokenMalformed, maxMembers)
		}
		seen = append(seen, key)
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return fmt.Errorf("%w: expected ':'", ErrTokenMalformed)
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i, 1)
		if err != nil {
			return err
		}
		if err := fn(key, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return trailing(b, i+1)
		}
		return fmt.Errorf("%w: expected ',' or '}'", ErrTokenMalformed)
	}
}

func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return fmt.Errorf("%w: data after the JSON object", ErrTokenMalformed)
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
			if j >= len(b) {
				break
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) || !isHex4(b[j+1:j+5]) {
					return 0, fmt.Errorf("%w: bad \\u escape", ErrTokenMalformed)
				}
				j += 4
			default:
				return 0, fmt.Errorf("%w: bad escape", ErrTokenMalformed)
			}
		case c < 0x20:
			return 0, fmt.Errorf("%w: control character in string", ErrTokenMalformed)
		}
	}
	return 0, fmt.Errorf("%w: unterminated string", ErrTokenMalformed)
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("%w: nested too deeply", ErrTokenMalformed)
	}
	if i >= len(b) {
		return 0, fmt.Errorf("%w: missing value", ErrTokenMalformed)
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		return skipContainer(b, i, '}', depth, true)
	case c == '[':
		return skipContainer(b, i, ']', depth, false)
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	case bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, nil
	case bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, nil
	case bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, nil
	}
	return 0, fmt.Errorf("%w: unexpected byte %q", ErrTokenMalformed, b[i])
}

func skipContainer(b []byte, i int, closer byte, depth int, object bool) (int, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	for {
		if object {
			if i >= len(b) || b[i] != '"' {
				return 0, fmt.Errorf("%w: expected a member name", ErrTokenMalformed)
			}
			end, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, fmt.Errorf("%w: expected ':'", ErrTokenMalformed)
			}
			i = skipSpace(b, i+1)
		}
		end, err := skipValue(b, i, depth+1)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		return 0, fmt.Errorf("%w: unterminated container", ErrTokenMalformed)
	}
}

func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return 0, fmt.Errorf("%w: bad number", ErrTokenMalformed)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0, fmt.Errorf("%w: bad number", ErrTokenMalformed)
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, fmt.Errorf("%w: bad number", ErrTokenMalformed)
		}
	}
	return i, nil
}

// unquoteInPlace decodes the JSON string v (quotes included, already
// checked by skipString) per RFC 8259 §7 and returns its contents, which it
// writes over v itself: a decoded string is never longer than its escaped
// form, so this allocates nothing. Use it only on buffers nothing else
// reads afterwards. A string that is not valid Unicode (invalid UTF-8, a
// lone surrogate) is refused rather than repaired, so that no two spellings
// can decode to the same value by replacement.
func unquoteInPlace(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s, utf8.Valid(s)
	}
	w := 0
	for r := 0; r < len(s); {
		c := s[r]
		if c != '\\' {
			s[w] = c
			w, r = w+1, r+1
			continue
		}
		if r+1 >= len(s) {
			return nil, false
		}
		switch e := s[r+1]; e {
		case '"', '\\', '/':
			s[w] = e
		case 'b':
			s[w] = '\b'
		case 'f':
			s[w] = '\f'
		case 'n':
			s[w] = '\n'
		case 'r':
			s[w] = '\r'
		case 't':
			s[w] = '\t'
		case 'u':
			rn, n, ok := decodeUnicodeEscape(s[r:])
			if !ok {
				return nil, false
			}
			// rn's UTF-8 form (at most 4 bytes) is shorter than the n >= 6
			// bytes just read, so it never overwrites unread input.
			w += utf8.EncodeRune(s[w:], rn)
			r += n
			continue
		default:
			return nil, false
		}
		w, r = w+1, r+2
	}
	return s[:w], utf8.Valid(s[:w])
}

// decodeUnicodeEscape decodes \uXXXX at the start of b, or a surrogate pair
// \uD8XX\uDCXX, and returns the rune and the bytes read.
func decodeUnicodeEscape(b []byte) (rune, int, bool) {
	hi, ok := hex4(b)
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(hi) {
		return hi, 6, true
	}
	if hi >= 0xdc00 || len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
		return 0, 0, false // a low surrogate first, or a high one alone
	}
	lo, ok := hex4(b[6:])
	if !ok {
		return 0, 0, false
	}
	rn := utf16.DecodeRune(hi, lo)
	if rn == utf8.RuneError {
		return 0, 0, false
	}
	return rn, 12, true
}

// hex4 reads the four hex digits of a \uXXXX escape at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
