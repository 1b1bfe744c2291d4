package jsonscan

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind says what went wrong. Its messages are constants, so that refusing
// a document allocates nothing until a caller formats the error.
type Kind uint8

// Kinds of syntax error.
const (
	None Kind = iota
	EOF
	EOFInString
	EOFInEscape
	EOFInUnicodeEscape
	EOFInObject
	EOFInArray
	Control
	InvalidUTF8
	InvalidEscape
	InvalidHex
	InvalidSurrogate
	InvalidNumber
	InvalidLiteral
	InvalidChar
	ExpectedName
	ExpectedColon
	ObjectSeparator
	ArraySeparator
	TooDeep
)

// message is the constant text of k.
func message(k Kind) string {
	switch k {
	case EOF:
		return "unexpected end of JSON"
	case EOFInString:
		return "unexpected end of JSON in a string"
	case EOFInEscape:
		return "unexpected end of JSON in an escape"
	case EOFInUnicodeEscape:
		return "unexpected end of JSON in a \\u escape"
	case EOFInObject:
		return "unexpected end of JSON in an object"
	case EOFInArray:
		return "unexpected end of JSON in an array"
	case Control:
		return "control character in a string"
	case InvalidUTF8:
		return "invalid UTF-8 in a string"
	case InvalidEscape:
		return "invalid escape"
	case InvalidHex:
		return "invalid hexadecimal digit in a \\u escape"
	case InvalidSurrogate:
		return "invalid UTF-16 surrogate in a \\u escape"
	case InvalidNumber:
		return "invalid number"
	case InvalidLiteral:
		return "invalid literal, expected "
	case InvalidChar:
		return "invalid character"
	case ExpectedName:
		return "expected a member name"
	case ExpectedColon:
		return "expected ':' after a member name"
	case ObjectSeparator:
		return "expected ',' or '}' after a member, found"
	case ArraySeparator:
		return "expected ',' or ']' after an element, found"
	case TooDeep:
		return "nesting too deep"
	}
	return ""
}

// Error is a syntax error: its kind, the offset in the document where it
// was found, and the byte it names for the kinds that name one
// (InvalidEscape, InvalidChar, the separators; InvalidLiteral names the
// literal its first byte began). The zero Error means no error.
type Error struct {
	Kind   Kind
	Offset int
	Byte   byte
}

// Message describes the error in English, without the offset.
func (e Error) Message() string {
	switch e.Kind {
	case InvalidEscape, InvalidChar, ObjectSeparator, ArraySeparator:
		return message(e.Kind) + " " + strconv.QuoteRune(rune(e.Byte))
	case InvalidLiteral:
		return message(e.Kind) + literalFor(e.Byte)
	}
	return message(e.Kind)
}

// Error implements error: the message and the offset.
func (e Error) Error() string { return e.Message() + " at offset " + strconv.Itoa(e.Offset) }

func fail(k Kind, offset int) Error { return Error{Kind: k, Offset: offset} }

func failAt(k Kind, offset int, c byte) Error { return Error{Kind: k, Offset: offset, Byte: c} }

// SkipSpace returns the offset of the first byte at or after i that is not
// JSON whitespace (space, tab, LF, CR), or len(b).
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// String checks the string that starts at b[i], which must be '"', and
// returns the offset after its closing quote and whether it contains
// escapes. Its contents are b[i+1 : end-1]; decode them with [Unquote]
// when escaped. It refuses control characters, malformed escapes, invalid
// UTF-8 and \u escapes that are not Unicode (a lone or reversed
// surrogate).
func String(b []byte, i int) (end int, escaped bool, err Error) {
	j := i + 1
	for j < len(b) {
		c := b[j]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			j++ // the usual byte, first and alone
			continue
		}
		switch {
		case c == '"':
			return j + 1, escaped, Error{}
		case c == '\\':
			n, e := escapeLen(b, j)
			if e.Kind != None {
				return 0, false, e
			}
			escaped = true
			j += n
		case c < 0x20:
			return 0, false, fail(Control, j)
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return 0, false, fail(InvalidUTF8, j)
			}
			j += size
		}
	}
	return 0, false, fail(EOFInString, len(b))
}

// escapeLen checks the escape at b[j] == '\\' and returns its length: 2,
// 6 for \uXXXX, or 12 for a surrogate pair.
func escapeLen(b []byte, j int) (int, Error) {
	if j+1 >= len(b) {
		return 0, fail(EOFInEscape, j)
	}
	switch c := b[j+1]; c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, Error{}
	case 'u':
		r, e := hex4(b, j+2)
		if e.Kind != None {
			return 0, e
		}
		if !utf16.IsSurrogate(r) {
			return 6, Error{}
		}
		// Only a high surrogate followed by an escaped low one makes a
		// character; encoding/json would turn a lone one into U+FFFD,
		// silently changing the text.
		if r >= 0xdc00 || j+7 >= len(b) || b[j+6] != '\\' || b[j+7] != 'u' {
			return 0, fail(InvalidSurrogate, j+6)
		}
		lo, e := hex4(b, j+8)
		if e.Kind != None {
			return 0, e
		}
		if utf16.DecodeRune(r, lo) == utf8.RuneError {
			return 0, fail(InvalidSurrogate, j+12)
		}
		return 12, Error{}
	default:
		return 0, failAt(InvalidEscape, j+1, c)
	}
}

// hex4 reads the four hex digits at b[k:].
func hex4(b []byte, k int) (rune, Error) {
	if k+4 > len(b) {
		return 0, fail(EOFInUnicodeEscape, k)
	}
	var r rune
	for _, c := range b[k : k+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, fail(InvalidHex, k)
		}
		r = r<<4 | rune(c)
	}
	return r, Error{}
}

// Unquote appends the decoded form of s, the contents of a string that
// [String] accepted (without its quotes), to dst and returns the result.
// The decoded form is never longer than s, so Unquote(s[:0], s) decodes in
// place, allocating nothing; use that only on a buffer nothing else reads
// afterwards. Given contents String did not accept, the result is
// unspecified, but Unquote does not panic.
func Unquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			k := i + 1
			for k < len(s) && s[k] != '\\' {
				k++
			}
			// With dst aliasing s this is a copy to lower or equal offsets,
			// which append (memmove) allows.
			dst = append(dst, s[i:k]...)
			i = k
			continue
		}
		if i+1 >= len(s) {
			return dst
		}
		switch e := s[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := decodeU(s[i:])
			// r's UTF-8 form (at most 4 bytes) is shorter than the n >= 6
			// bytes just read, so in place it never overwrites unread
			// input.
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
		i += 2
	}
	return dst
}

// decodeU decodes \uXXXX, or a surrogate pair of them, at the start of s,
// and returns the rune and the bytes read.
func decodeU(s []byte) (rune, int) {
	hi, e := hex4(s, 2)
	if e.Kind != None {
		return utf8.RuneError, len(s)
	}
	if !utf16.IsSurrogate(hi) {
		return hi, 6
	}
	if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if lo, e := hex4(s, 8); e.Kind == None {
			return utf16.DecodeRune(hi, lo), 12
		}
	}
	return utf8.RuneError, 6
}

// Number checks the number that starts at b[i] and returns the offset
// after it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? followed by
// something that can end a number, so "01" and "1x" are refused here
// rather than by whatever reads the next token.
func Number(b []byte, i int) (int, Error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		j = digits(b, j)
	default:
		return 0, fail(InvalidNumber, i)
	}
	if j < len(b) && b[j] == '.' {
		d := j + 1
		if j = digits(b, d); j == d {
			return 0, fail(InvalidNumber, i)
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		d := j
		if j = digits(b, d); j == d {
			return 0, fail(InvalidNumber, i)
		}
	}
	if j < len(b) && continuesNumber(b[j]) {
		return 0, fail(InvalidNumber, i)
	}
	return j, Error{}
}

func digits(b []byte, j int) int {
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	return j
}

func continuesNumber(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '+'
}

// IsNumber reports whether b is exactly one JSON number.
func IsNumber(b []byte) bool {
	end, err := Number(b, 0)
	return err.Kind == None && end == len(b)
}

// Literal checks the literal (true, false or null) that b[i] begins and
// returns the offset after it. Like encoding/json, it does not look at the
// byte after the literal: "truex" is refused by whatever reads next.
func Literal(b []byte, i int) (int, Error) {
	word := literalFor(b[i])
	if word == "" {
		return 0, failAt(InvalidChar, i, b[i])
	}
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return 0, failAt(InvalidLiteral, i, b[i])
	}
	return i + len(word), Error{}
}

func literalFor(c byte) string {
	switch c {
	case 't':
		return "true"
	case 'f':
		return "false"
	case 'n':
		return "null"
	}
	return ""
}

// Name reads a member name and the colon after it, whitespace allowed
// before each: it returns the name's contents (escapes not decoded, see
// [Unquote]), whether it has escapes, and the offset of the member's
// value, whitespace skipped.
func Name(b []byte, i int) (name []byte, escaped bool, value int, err Error) {
	i = SkipSpace(b, i)
	if i >= len(b) || b[i] != '"' {
		return nil, false, 0, fail(ExpectedName, i)
	}
	end, escaped, err := String(b, i)
	if err.Kind != None {
		return nil, false, 0, err
	}
	j := SkipSpace(b, end)
	if j >= len(b) || b[j] != ':' {
		return nil, false, 0, fail(ExpectedColon, j)
	}
	return b[i+1 : end-1], escaped, SkipSpace(b, j+1), Error{}
}

// Next reads what follows a member (closer '}') or an element (closer
// ']'), whitespace allowed before it: a ',' (done is false, and the next
// member or element follows) or the closer (done is true). The offset
// returned is after the byte read.
func Next(b []byte, i int, closer byte) (next int, done bool, err Error) {
	// Most separators follow their value at once; this much inlines.
	if i < len(b) && (b[i] == ',' || b[i] == closer) {
		return i + 1, b[i] == closer, Error{}
	}
	return nextAfterSpace(b, i, closer)
}

func nextAfterSpace(b []byte, i int, closer byte) (next int, done bool, err Error) {
	i = SkipSpace(b, i)
	if i >= len(b) {
		if closer == '}' {
			return 0, true, fail(EOFInObject, i)
		}
		return 0, true, fail(EOFInArray, i)
	}
	switch c := b[i]; c {
	case ',':
		return i + 1, false, Error{}
	case closer:
		return i + 1, true, Error{}
	default:
		if closer == '}' {
			return 0, true, failAt(ObjectSeparator, i, c)
		}
		return 0, true, failAt(ArraySeparator, i, c)
	}
}

// SkipValue checks the value that starts at b[i] (after any whitespace)
// and returns the offset after it. At most maxDepth objects and arrays may
// be open at once, the value's own included; one more is [TooDeep]. Member
// names are checked as strings, not compared: skipping cannot see
// duplicates.
func SkipValue(b []byte, i, maxDepth int) (int, Error) {
	return skip(b, SkipSpace(b, i), 0, maxDepth)
}

// skip reads a value inside depth open containers.
func skip(b []byte, i, depth, maxDepth int) (int, Error) {
	if i >= len(b) {
		return 0, fail(EOF, i)
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := String(b, i)
		return end, err
	case c == '{' || c == '[':
		return skipContainer(b, i, depth, maxDepth)
	case c == '-' || c >= '0' && c <= '9':
		return Number(b, i)
	default:
		return Literal(b, i)
	}
}

func skipContainer(b []byte, i, depth, maxDepth int) (int, Error) {
	if depth++; depth > maxDepth {
		return 0, fail(TooDeep, i)
	}
	closer := byte(']')
	if b[i] == '{' {
		closer = '}'
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, Error{}
	}
	for {
		if closer == '}' {
			_, _, v, err := Name(b, i)
			if err.Kind != None {
				return 0, err
			}
			i = v
		}
		end, err := skip(b, SkipSpace(b, i), depth, maxDepth)
		if err.Kind != None {
			return 0, err
		}
		next, done, err := Next(b, end, closer)
		if err.Kind != None || done {
			return next, err
		}
		i = next
	}
}
