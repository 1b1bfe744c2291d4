package validate

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner walks a JSON document once, guided by the schema of the target
// type. Syntax errors are fatal (err); mismatches with the schema are
// reported to v at their path and the walk goes on, so that one response
// lists them all. It enforces what encoding/json v1 lets through: duplicate
// members, members that match a field only without case, invalid UTF-8,
// null for a type that has no null, and nesting beyond maxDepth.
type scanner struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	v        *Validator
	err      *syntaxError
	scratch  []byte   // unescaped string content
	keys     []string // member names of the objects being walked, as a stack
}

type syntaxError struct {
	msg     string
	offset  int
	tooDeep bool
}

// dupScanLimit is the member count up to which duplicates are found by
// comparing with every earlier member; larger objects use a map.
const dupScanLimit = 16

func (sc *scanner) run(s *schema) {
	sc.skipSpace()
	if sc.pos == len(sc.data) {
		sc.fail("empty body")
		return
	}
	sc.value(s)
	if sc.err != nil {
		return
	}
	sc.skipSpace()
	if sc.pos < len(sc.data) {
		sc.fail("trailing data after the JSON value")
	}
}

func (sc *scanner) fail(msg string) {
	if sc.err == nil {
		sc.err = &syntaxError{msg: msg, offset: sc.pos}
	}
}

func (sc *scanner) failAt(msg string, c byte) {
	sc.fail(msg + " " + strconv.QuoteRune(rune(c)))
}

func (sc *scanner) skipSpace() {
	for sc.pos < len(sc.data) {
		switch sc.data[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

func (sc *scanner) value(s *schema) {
	s, nullable := derefPointers(s)
	if s != nil && (s.nullable || s.kind == kindAny) {
		nullable = true
	}
	if s != nil && s.kind == kindAny {
		s = nil // anything goes; the walk still checks syntax and duplicates
	}
	if sc.pos >= len(sc.data) {
		sc.fail("unexpected end of JSON")
		return
	}
	switch c := sc.data[sc.pos]; {
	case c == '{':
		sc.object(s)
	case c == '[':
		sc.array(s)
	case c == '"':
		sc.stringValue(s)
	case c == 't':
		sc.literal("true", s, kindBool, "a boolean")
	case c == 'f':
		sc.literal("false", s, kindBool, "a boolean")
	case c == 'n':
		if sc.literal("null", nil, 0, "") && s != nil && !nullable {
			sc.mismatch(s, "null")
		}
	case c == '-' || (c >= '0' && c <= '9'):
		sc.number(s)
	default:
		sc.failAt("invalid character", c)
	}
}

// literal consumes word and, when s is set and is not of kind want,
// reports a mismatch with actual.
func (sc *scanner) literal(word string, s *schema, want schemaKind, actual string) bool {
	if len(sc.data)-sc.pos < len(word) || string(sc.data[sc.pos:sc.pos+len(word)]) != word {
		sc.fail("invalid literal, expected " + word)
		return false
	}
	sc.pos += len(word)
	if s != nil && s.kind != want {
		sc.mismatch(s, actual)
	}
	return true
}

func (sc *scanner) mismatch(s *schema, actual string) {
	sc.v.Report("", CodeInvalidType, msgInvalidType,
		Param{"expected", expectedName(s)}, Param{"actual", actual})
}

func expectedName(s *schema) string {
	switch s.kind {
	case kindString, kindText:
		return "a string"
	case kindTime:
		return "a string with an RFC 3339 date-time"
	case kindBytes:
		return "a base64 string"
	case kindBool:
		return "a boolean"
	case kindInt:
		return "an integer"
	case kindUint:
		return "a non-negative integer"
	case kindFloat, kindNumber:
		return "a number"
	case kindStruct, kindMap:
		return "an object"
	case kindSlice, kindArray:
		return "an array"
	case kindQuoted:
		return "a string holding " + expectedName(deref(s.elem))
	}
	return "a value of type " + s.goType
}

func deref(s *schema) *schema {
	s, _ = derefPointers(s)
	return s
}

// maxPointerChain bounds how many pointer types derefPointers follows: Go
// allows a cycle of them (type P *P), which must not loop forever.
const maxPointerChain = 64

// derefPointers follows pointer schemas to the pointed-to one, and says
// whether a pointer was crossed (null is then a value).
func derefPointers(s *schema) (*schema, bool) {
	nullable := false
	for i := 0; s != nil && s.kind == kindPointer; i++ {
		if i == maxPointerChain {
			return &schema{kind: kindUnsupported, goType: "a cycle of pointer types"}, true
		}
		nullable, s = true, s.elem
	}
	return s, nullable
}

func (sc *scanner) enter() bool {
	sc.depth++
	if sc.depth > sc.maxDepth {
		sc.fail("nesting deeper than " + strconv.Itoa(sc.maxDepth))
		sc.err.tooDeep = true
		return false
	}
	sc.pos++
	return true
}

func (sc *scanner) object(s *schema) {
	if s != nil && s.kind != kindStruct && s.kind != kindMap {
		sc.mismatch(s, "an object")
		s = nil
	}
	if !sc.enter() {
		return
	}
	defer func() { sc.depth-- }()
	first := len(sc.keys)
	defer func() { sc.keys = sc.keys[:first] }()
	var seen map[string]struct{}
	sc.skipSpace()
	if sc.pos < len(sc.data) && sc.data[sc.pos] == '}' {
		sc.pos++
		return
	}
	for {
		sc.skipSpace()
		if sc.pos >= len(sc.data) || sc.data[sc.pos] != '"' {
			sc.fail("expected a member name")
			return
		}
		raw, ok := sc.str()
		if !ok {
			return
		}
		name, child := sc.member(s, raw)
		if sc.isDuplicate(name, first, &seen) {
			sc.v.push(Key(name))
			sc.v.Report("", CodeDuplicateKey, msgDuplicateKey)
			sc.v.pop()
		}
		sc.skipSpace()
		if sc.pos >= len(sc.data) || sc.data[sc.pos] != ':' {
			sc.fail("expected ':' after a member name")
			return
		}
		sc.pos++
		sc.skipSpace()
		sc.v.push(Key(name))
		sc.value(child)
		sc.v.pop()
		if sc.err != nil {
			return
		}
		if sc.separator('}', "unexpected end of JSON in an object", "expected ',' or '}' after a member, found") {
			return
		}
	}
}

// member resolves the member name raw against s and returns the name as a
// string (the schema's own, so no allocation, when it is a known field)
// and the schema of its value (nil when anything goes).
func (sc *scanner) member(s *schema, raw []byte) (string, *schema) {
	if s == nil {
		return string(raw), nil
	}
	if s.kind == kindStruct {
		if m, ok := s.fields[string(raw)]; ok {
			return m.name, m.s
		}
		name := string(raw)
		sc.v.push(Key(name))
		if exact, ok := s.folded[strings.ToLower(name)]; ok {
			sc.v.Report("", CodeFieldCase, msgFieldCase, Param{"expected", exact})
		} else {
			sc.v.Report("", CodeUnknownField, msgUnknownField)
		}
		sc.v.pop()
		return name, nil
	}
	name := string(raw) // a map key
	var err error
	switch s.keyKind {
	case kindInt:
		_, err = strconv.ParseInt(name, 10, 64)
	case kindUint:
		_, err = strconv.ParseUint(name, 10, 64)
	case kindUnsupported:
		sc.v.push(Key(name))
		sc.v.Report("", CodeInvalidType, msgInvalidType, Param{"expected", "a key of type " + s.goType}, Param{"actual", "a string"})
		sc.v.pop()
	}
	if err != nil {
		sc.v.push(Key(name))
		sc.v.Report("", CodeInvalidType, msgInvalidType, Param{"expected", "an integer member name"}, Param{"actual", "a string"})
		sc.v.pop()
	}
	return name, s.elem
}

func (sc *scanner) isDuplicate(name string, first int, seen *map[string]struct{}) bool {
	keys := sc.keys[first:]
	dup := false
	switch {
	case *seen != nil:
		_, dup = (*seen)[name]
		(*seen)[name] = struct{}{}
	case len(keys) < dupScanLimit:
		for _, k := range keys {
			if k == name {
				dup = true
				break
			}
		}
	default:
		*seen = make(map[string]struct{}, 2*len(keys))
		for _, k := range keys {
			(*seen)[k] = struct{}{}
		}
		_, dup = (*seen)[name]
		(*seen)[name] = struct{}{}
	}
	if *seen == nil {
		sc.keys = append(sc.keys, name)
	}
	return dup
}

func (sc *scanner) array(s *schema) {
	var elem *schema
	if s != nil {
		if s.kind != kindSlice && s.kind != kindArray {
			sc.mismatch(s, "an array")
			s = nil
		} else {
			elem = s.elem
		}
	}
	if !sc.enter() {
		return
	}
	defer func() { sc.depth-- }()
	sc.skipSpace()
	if sc.pos < len(sc.data) && sc.data[sc.pos] == ']' {
		sc.pos++
		return
	}
	for i := 0; ; i++ {
		if s != nil && s.kind == kindArray && i == s.arrayLen {
			sc.v.Report("", CodeTooManyItems, msgTooManyItems, Param{"max", s.arrayLen})
			elem = nil
		}
		sc.skipSpace()
		sc.v.push(Index(i))
		sc.value(elem)
		sc.v.pop()
		if sc.err != nil {
			return
		}
		if sc.separator(']', "unexpected end of JSON in an array", "expected ',' or ']' after an element, found") {
			return
		}
	}
}

func (sc *scanner) stringValue(s *schema) {
	raw, ok := sc.str()
	if !ok || s == nil {
		return
	}
	switch s.kind {
	case kindString, kindText:
	case kindTime:
		if _, err := time.Parse(time.RFC3339Nano, string(raw)); err != nil {
			sc.v.Report("", CodeDateTime, msgDateTime)
		}
	case kindBytes:
		if _, err := base64.StdEncoding.DecodeString(string(raw)); err != nil {
			sc.v.Report("", CodeInvalidValue, msgInvalidValue, Param{"reason", "not valid base64"})
		}
	case kindQuoted:
		sc.quoted(deref(s.elem), raw)
	default:
		sc.mismatch(s, "a string")
	}
}

// quoted checks the content of a ",string" member against its Go type.
func (sc *scanner) quoted(s *schema, raw []byte) {
	text := string(raw)
	var ok bool
	switch s.kind {
	case kindBool:
		ok = text == "true" || text == "false"
	case kindInt:
		_, err := strconv.ParseInt(text, 10, s.bits)
		ok = err == nil
	case kindUint:
		_, err := strconv.ParseUint(text, 10, s.bits)
		ok = err == nil
	case kindFloat:
		_, err := strconv.ParseFloat(text, s.bits)
		ok = err == nil && isJSONNumber(raw)
	case kindString:
		ok = len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"'
	}
	if !ok {
		sc.v.Report("", CodeInvalidType, msgInvalidType,
			Param{"expected", "a string holding " + expectedName(s)}, Param{"actual", "a string"})
	}
}

// str consumes a string token and returns its content, unescaped. The
// returned slice is valid until the next call.
func (sc *scanner) str() ([]byte, bool) {
	sc.pos++ // the opening quote
	start := sc.pos
	for sc.pos < len(sc.data) {
		c := sc.data[sc.pos]
		switch {
		case c == '"':
			raw := sc.data[start:sc.pos]
			sc.pos++
			return raw, true
		case c == '\\':
			return sc.escapedStr(start)
		case c < 0x20:
			sc.fail("control character in a string")
			return nil, false
		case c < utf8.RuneSelf:
			sc.pos++
		default:
			r, size := utf8.DecodeRune(sc.data[sc.pos:])
			if r == utf8.RuneError && size == 1 {
				sc.fail("invalid UTF-8 in a string")
				return nil, false
			}
			sc.pos += size
		}
	}
	sc.fail("unexpected end of JSON in a string")
	return nil, false
}

// escapedStr finishes a string that has escapes, unescaping into scratch.
func (sc *scanner) escapedStr(start int) ([]byte, bool) {
	buf := append(sc.scratch[:0], sc.data[start:sc.pos]...)
	defer func() { sc.scratch = buf[:0] }()
	for sc.pos < len(sc.data) {
		c := sc.data[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			return buf, true
		case c == '\\':
			var ok bool
			if buf, ok = sc.escape(buf); !ok {
				return nil, false
			}
		case c < 0x20:
			sc.fail("control character in a string")
			return nil, false
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			sc.pos++
		default:
			r, size := utf8.DecodeRune(sc.data[sc.pos:])
			if r == utf8.RuneError && size == 1 {
				sc.fail("invalid UTF-8 in a string")
				return nil, false
			}
			buf = append(buf, sc.data[sc.pos:sc.pos+size]...)
			sc.pos += size
		}
	}
	sc.fail("unexpected end of JSON in a string")
	return nil, false
}

func (sc *scanner) escape(buf []byte) ([]byte, bool) {
	if sc.pos+1 >= len(sc.data) {
		sc.fail("unexpected end of JSON in an escape")
		return buf, false
	}
	c := sc.data[sc.pos+1]
	sc.pos += 2
	switch c {
	case '"', '\\', '/':
		return append(buf, c), true
	case 'b':
		return append(buf, '\b'), true
	case 'f':
		return append(buf, '\f'), true
	case 'n':
		return append(buf, '\n'), true
	case 'r':
		return append(buf, '\r'), true
	case 't':
		return append(buf, '\t'), true
	case 'u':
		r, ok := sc.hex4()
		if !ok {
			return buf, false
		}
		if utf16.IsSurrogate(r) {
			// Only a high surrogate followed by an escaped low one makes a
			// character; encoding/json would turn a lone one into U+FFFD,
			// silently changing the text.
			lo, ok := rune(-1), false
			if r < 0xdc00 && sc.pos+1 < len(sc.data) && sc.data[sc.pos] == '\\' && sc.data[sc.pos+1] == 'u' {
				sc.pos += 2
				lo, ok = sc.hex4()
			}
			if !ok || utf16.DecodeRune(r, lo) == utf8.RuneError {
				sc.fail("invalid UTF-16 surrogate in a \\u escape")
				return buf, false
			}
			r = utf16.DecodeRune(r, lo)
		}
		return utf8.AppendRune(buf, r), true
	}
	sc.pos--
	sc.failAt("invalid escape", c)
	return buf, false
}

func (sc *scanner) hex4() (rune, bool) {
	if sc.pos+4 > len(sc.data) {
		sc.fail("unexpected end of JSON in a \\u escape")
		return 0, false
	}
	var r rune
	for _, c := range sc.data[sc.pos : sc.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			sc.fail("invalid hexadecimal digit in a \\u escape")
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	sc.pos += 4
	return r, true
}

func (sc *scanner) number(s *schema) {
	start := sc.pos
	n := numberLen(sc.data[sc.pos:])
	if n == 0 {
		sc.fail("invalid number")
		return
	}
	sc.pos += n
	if s == nil {
		return
	}
	lit := sc.data[start:sc.pos]
	switch s.kind {
	case kindFloat:
		if _, err := strconv.ParseFloat(string(lit), s.bits); err != nil {
			sc.v.Report("", CodeNumberRange, msgNumberRange, Param{"type", s.goType})
		}
	case kindNumber:
	case kindInt, kindUint:
		sc.integer(s, lit)
	default:
		sc.mismatch(s, "a number")
	}
}

func (sc *scanner) integer(s *schema, lit []byte) {
	for _, c := range lit {
		if c == '.' || c == 'e' || c == 'E' {
			sc.mismatch(s, "a number with a fraction or an exponent")
			return
		}
	}
	var err error
	if s.kind == kindInt {
		_, err = strconv.ParseInt(string(lit), 10, s.bits)
	} else {
		_, err = strconv.ParseUint(string(lit), 10, s.bits)
	}
	if err != nil {
		sc.v.Report("", CodeNumberRange, msgNumberRange, Param{"type", s.goType})
	}
}

// numberLen returns the length of the JSON number at the start of b, or 0
// when there is none: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0
		}
	}
	if i < len(b) && isNumberContinuation(b[i]) {
		return 0 // "01", "1x": not a number followed by a delimiter
	}
	return i
}

func isNumberContinuation(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '+'
}

func isJSONNumber(b []byte) bool { return len(b) > 0 && numberLen(b) == len(b) }

// separator consumes the ',' or the closer after a member or an element. It
// reports whether the container is done: closed, or malformed (the error is
// recorded). The messages are constants so that a failure allocates no more
// than before.
func (sc *scanner) separator(closer byte, eof, unexpected string) (done bool) {
	sc.skipSpace()
	if sc.pos >= len(sc.data) {
		sc.fail(eof)
		return true
	}
	switch sc.data[sc.pos] {
	case ',':
		sc.pos++
		return false
	case closer:
		sc.pos++
		return true
	}
	sc.failAt(unexpected, sc.data[sc.pos])
	return true
}
