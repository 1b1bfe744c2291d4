package validate

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/internal/jsonscan"
)

// scanner walks a JSON document once, guided by the schema of the target
// type; the tokens are read by internal/jsonscan, the lexer auth/token
// shares. Syntax errors are fatal (err); mismatches with the schema are
// reported to v at their path and the walk goes on, so that one response
// lists them all. It enforces what encoding/json v1 lets through: duplicate
// members, members that match a field only without case, invalid UTF-8
// and lone surrogates, null for a type that has no null, and nesting
// beyond maxDepth.
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

// lexFailed records e, a lexer error, and reports whether there was one.
func (sc *scanner) lexFailed(e jsonscan.Error) bool {
	if e.Kind == jsonscan.None {
		return false
	}
	sc.lexError(e)
	return true
}

func (sc *scanner) lexError(e jsonscan.Error) {
	if sc.err == nil {
		sc.err = &syntaxError{msg: e.Message(), offset: e.Offset}
	}
}

func (sc *scanner) skipSpace() { sc.pos = jsonscan.SkipSpace(sc.data, sc.pos) }

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
	case c == '-' || (c >= '0' && c <= '9'):
		sc.number(s)
	default:
		sc.literal(s, nullable)
	}
}

// literal consumes true, false or null (any other byte is a syntax error)
// and reports a mismatch with s.
func (sc *scanner) literal(s *schema, nullable bool) {
	c := sc.data[sc.pos]
	end, e := jsonscan.Literal(sc.data, sc.pos)
	if sc.lexFailed(e) {
		return
	}
	sc.pos = end
	switch {
	case s == nil:
	case c == 'n':
		if !nullable {
			sc.mismatch(s, "null")
		}
	case s.kind != kindBool:
		sc.mismatch(s, "a boolean")
	}
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
		raw, escaped, value, e := jsonscan.Name(sc.data, sc.pos)
		if sc.lexFailed(e) {
			return
		}
		if escaped {
			sc.scratch = jsonscan.Unquote(sc.scratch[:0], raw)
			raw = sc.scratch
		}
		sc.pos = value
		name, child := sc.member(s, raw)
		if sc.isDuplicate(name, first, &seen) {
			sc.v.push(Key(name))
			sc.v.Report("", CodeDuplicateKey, msgDuplicateKey)
			sc.v.pop()
		}
		sc.v.push(Key(name))
		sc.value(child)
		sc.v.pop()
		if sc.err != nil || sc.next('}') {
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
		if sc.err != nil || sc.next(']') {
			return
		}
	}
}

func (sc *scanner) stringValue(s *schema) {
	start := sc.pos
	end, escaped, e := jsonscan.String(sc.data, start)
	if sc.lexFailed(e) {
		return
	}
	sc.pos = end
	if s == nil {
		return
	}
	switch s.kind {
	case kindString, kindText:
		return
	}
	raw := sc.data[start+1 : end-1]
	if escaped {
		sc.scratch = jsonscan.Unquote(sc.scratch[:0], raw)
		raw = sc.scratch
	}
	switch s.kind {
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
		ok = err == nil && jsonscan.IsNumber(raw)
	case kindString:
		ok = len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"'
	}
	if !ok {
		sc.v.Report("", CodeInvalidType, msgInvalidType,
			Param{"expected", "a string holding " + expectedName(s)}, Param{"actual", "a string"})
	}
}

func (sc *scanner) number(s *schema) {
	start := sc.pos
	end, e := jsonscan.Number(sc.data, start)
	if sc.lexFailed(e) {
		return
	}
	sc.pos = end
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

// next consumes the ',' or the closer after a member or an element. It
// reports whether the container is done: closed, or malformed (the error
// is recorded).
func (sc *scanner) next(closer byte) (done bool) {
	next, done, e := jsonscan.Next(sc.data, sc.pos, closer)
	if sc.lexFailed(e) {
		return true
	}
	sc.pos = next
	return done
}
