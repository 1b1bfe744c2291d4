package token

import (
	"bytes"
	"fmt"

	"github.com/bedrock-go/bedrock/internal/jsonscan"
)

// maxDepth bounds the nesting of JSON values in a token.
const maxDepth = 32

// maxMembers bounds the members of a header or claims object, which keeps
// the duplicate check cheap.
const maxMembers = 64

// eachMember calls fn for every member of the JSON object b, in order, with
// the member name (unescaped) and its raw value. It refuses anything that is
// not exactly one well-formed object, strings that are not valid Unicode,
// and duplicate member names, compared ignoring case, since encoding/json
// matches fields that way: a second "SUB" must not be able to override
// "sub".
func eachMember(b []byte, fn func(key, value []byte) error) error {
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return trailing(b, i+1)
	}
	var small [16][]byte
	seen := small[:0]
	// Escaped names are decoded into a buffer of their own rather than in
	// b, which a custom carrier's encoding/json decode reads afterwards;
	// names without escapes, the usual case, cost nothing. A name keeps
	// pointing into the array it was decoded into when unescaped grows.
	var unescaped []byte
	for {
		key, escaped, v, e := jsonscan.Name(b, i)
		if e.Kind != jsonscan.None {
			return syntaxError(e)
		}
		if escaped {
			start := len(unescaped)
			unescaped = jsonscan.Unquote(unescaped, key)
			key = unescaped[start:len(unescaped):len(unescaped)]
		}
		for _, k := range seen {
			if bytes.EqualFold(k, key) {
				return fmt.Errorf("%w: duplicate member %q", ErrMalformed, key)
			}
		}
		if len(seen) == maxMembers {
			return fmt.Errorf("%w: more than %d members", ErrMalformed, maxMembers)
		}
		seen = append(seen, key)
		end, e := jsonscan.SkipValue(b, v, maxDepth)
		if e.Kind != jsonscan.None {
			return syntaxError(e)
		}
		if err := fn(key, b[v:end]); err != nil {
			return err
		}
		next, done, e := jsonscan.Next(b, end, '}')
		if e.Kind != jsonscan.None {
			return syntaxError(e)
		}
		if done {
			return trailing(b, next)
		}
		i = next
	}
}

func syntaxError(e jsonscan.Error) error {
	return fmt.Errorf("%w: %s", ErrMalformed, e.Error())
}

func trailing(b []byte, i int) error {
	if jsonscan.SkipSpace(b, i) != len(b) {
		return fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	return nil
}

// unquoteInPlace decodes the JSON string v (quotes included) per RFC 8259
// §7 and returns its contents, which it writes over v itself: a decoded
// string is never longer than its escaped form, so this allocates
// nothing. Use it only on buffers nothing else reads afterwards. A string
// that is not valid Unicode (invalid UTF-8, a lone surrogate) is refused
// rather than repaired, so that no two spellings can decode to the same
// value by replacement.
func unquoteInPlace(v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0] != '"' {
		return nil, false
	}
	end, escaped, e := jsonscan.String(v, 0)
	if e.Kind != jsonscan.None || end != len(v) {
		return nil, false
	}
	s := v[1 : len(v)-1]
	if !escaped {
		return s, true
	}
	return jsonscan.Unquote(s[:0], s), true
}
