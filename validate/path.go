package validate

import (
	"strconv"
	"strings"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Segment is one step of a [Path]: an object member (Key) or an array
// element (Index). Index is -1 for a member.
type Segment struct {
	Key   string
	Index int
}

// Key returns the segment for the object member name.
func Key(name string) Segment { return Segment{Key: name, Index: -1} }

// Index returns the segment for the array element i.
func Index(i int) Segment { return Segment{Index: i} }

// IsIndex reports whether s names an array element.
func (s Segment) IsIndex() bool { return s.Index >= 0 }

// Path locates a value inside a JSON document, in the names of the JSON
// document (never Go field names). The empty Path is the document itself.
type Path []Segment

// String renders p the way a JavaScript or jq user writes it:
// items[2].sku. Members whose name is not a plain identifier are quoted:
// labels["a.b"]. The empty path renders as "".
func (p Path) String() string {
	var b strings.Builder
	for _, s := range p {
		switch {
		case s.IsIndex():
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case isIdentifier(s.Key):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.Key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// Pointer renders p as an RFC 6901 JSON Pointer: /items/2/sku, with "~"
// and "/" in member names escaped as "~0" and "~1". The empty path renders
// as "" (the whole document), as RFC 6901 defines.
func (p Path) Pointer() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteByte('/')
		if s.IsIndex() {
			b.WriteString(strconv.Itoa(s.Index))
			continue
		}
		writePointerToken(&b, s.Key)
	}
	return b.String()
}

// writePointerToken writes key as an RFC 6901 reference token.
func writePointerToken(b *strings.Builder, key string) {
	if !strings.ContainsAny(key, "~/") {
		b.WriteString(key)
		return
	}
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(c)
		}
	}
}

// ParsePointer parses an RFC 6901 JSON Pointer into a Path. Reference
// tokens made only of decimal digits (without a leading zero) become
// indexes, as they would when the pointer is evaluated against an array.
func ParsePointer(ptr string) (Path, error) {
	if ptr == "" {
		return Path{}, nil
	}
	if ptr[0] != '/' {
		return nil, &PointerError{Pointer: ptr, Reason: "must start with '/'"}
	}
	parts := strings.Split(ptr[1:], "/")
	p := make(Path, 0, len(parts))
	for _, tok := range parts {
		if i, ok := arrayIndex(tok); ok {
			p = append(p, Index(i))
			continue
		}
		key, err := unescapePointerToken(tok)
		if err != nil {
			return nil, &PointerError{Pointer: ptr, Reason: err.Error()}
		}
		p = append(p, Key(key))
	}
	return p, nil
}

// PointerError reports a malformed JSON Pointer given to [ParsePointer].
type PointerError struct {
	Pointer string
	Reason  string
}

// Error says which pointer is malformed (an excerpt of it: pointers may
// come from a request) and why.
func (e *PointerError) Error() string {
	ptr, _ := problem.Excerpt(e.Pointer, maxNameBytes)
	return "validate: invalid JSON pointer " + strconv.Quote(ptr) + ": " + e.Reason
}

// Unwrap makes the error match [ErrInvalidPointer].
func (e *PointerError) Unwrap() error { return ErrInvalidPointer }

func arrayIndex(tok string) (int, bool) {
	if tok == "" || len(tok) > 9 || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func unescapePointerToken(tok string) (string, error) {
	if !strings.Contains(tok, "~") {
		return tok, nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '~' {
			b.WriteByte(tok[i])
			continue
		}
		if i+1 == len(tok) || (tok[i+1] != '0' && tok[i+1] != '1') {
			return "", errBadTilde
		}
		if tok[i+1] == '0' {
			b.WriteByte('~')
		} else {
			b.WriteByte('/')
		}
		i++
	}
	return b.String(), nil
}

// isIdentifier reports whether a member name can be written after a dot
// without quoting: ASCII letters, digits, '_' and '$', not starting with a
// digit.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
