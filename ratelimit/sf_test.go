package ratelimit_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A strict parser of RFC 9651 (Structured Field Values for HTTP) Lists,
// following its parsing algorithms (section 4.2) step by step, so that the
// tests can hold every field the middleware writes to the specification
// rather than to a regular expression. It parses every bare item type,
// inner lists included, and fails wherever the RFC says to fail.

// sfItem is an Item or, when inner is not nil, an Inner List.
type sfItem struct {
	value  any // int64, sfDecimal, string, sfToken, []byte, bool, sfDate, sfDisplay
	inner  []sfItem
	params []sfParam
}

type sfParam struct {
	key   string
	value any
}

type (
	sfToken   string
	sfDecimal string
	sfDate    int64
	sfDisplay string
)

func (it sfItem) param(key string) (any, bool) {
	for _, p := range it.params {
		if p.key == key {
			return p.value, true
		}
	}
	return nil, false
}

var errSF = errors.New("not an RFC 9651 structured field")

type sfParser struct {
	s string
	i int
}

func (p *sfParser) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d of %q", errSF, fmt.Sprintf(format, args...), p.i, p.s)
}

func (p *sfParser) eof() bool  { return p.i >= len(p.s) }
func (p *sfParser) peek() byte { return p.s[p.i] }

func (p *sfParser) skipSP() {
	for !p.eof() && p.peek() == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

// parseSFList parses a field value (the lines of one field joined with
// ", ", as RFC 9110 combines them) as a List.
func parseSFList(field string) ([]sfItem, error) {
	p := &sfParser{s: field}
	p.skipSP()
	var list []sfItem
	for !p.eof() {
		m, err := p.itemOrInnerList()
		if err != nil {
			return nil, err
		}
		list = append(list, m)
		p.skipOWS()
		if p.eof() {
			break
		}
		if p.peek() != ',' {
			return nil, p.fail("expected ','")
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, p.fail("trailing comma")
		}
	}
	if !p.eof() {
		return nil, p.fail("trailing characters")
	}
	return list, nil
}

// parseSFItem parses a field value as a single Item.
func parseSFItem(field string) (sfItem, error) {
	p := &sfParser{s: field}
	p.skipSP()
	it, err := p.item()
	if err != nil {
		return sfItem{}, err
	}
	p.skipSP()
	if !p.eof() {
		return sfItem{}, p.fail("trailing characters")
	}
	return it, nil
}

func (p *sfParser) itemOrInnerList() (sfItem, error) {
	if !p.eof() && p.peek() == '(' {
		return p.innerList()
	}
	return p.item()
}

func (p *sfParser) innerList() (sfItem, error) {
	p.i++ // '('
	inner := []sfItem{}
	for !p.eof() {
		p.skipSP()
		if p.eof() {
			break
		}
		if p.peek() == ')' {
			p.i++
			params, err := p.parameters()
			return sfItem{inner: inner, params: params}, err
		}
		it, err := p.item()
		if err != nil {
			return sfItem{}, err
		}
		inner = append(inner, it)
		if p.eof() || (p.peek() != ' ' && p.peek() != ')') {
			return sfItem{}, p.fail("expected SP or ')' in inner list")
		}
	}
	return sfItem{}, p.fail("unterminated inner list")
}

func (p *sfParser) item() (sfItem, error) {
	v, err := p.bareItem()
	if err != nil {
		return sfItem{}, err
	}
	params, err := p.parameters()
	return sfItem{value: v, params: params}, err
}

func (p *sfParser) parameters() ([]sfParam, error) {
	var params []sfParam
	for !p.eof() && p.peek() == ';' {
		p.i++
		p.skipSP()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		var value any = true
		if !p.eof() && p.peek() == '=' {
			p.i++
			if value, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for j := range params {
			if params[j].key == key {
				params[j].value, replaced = value, true
			}
		}
		if !replaced {
			params = append(params, sfParam{key, value})
		}
	}
	return params, nil
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || (c >= 'A' && c <= 'Z') }

func (p *sfParser) key() (string, error) {
	if p.eof() || !(isLCAlpha(p.peek()) || p.peek() == '*') {
		return "", p.fail("key must start with lcalpha or '*'")
	}
	start := p.i
	for !p.eof() {
		c := p.peek()
		if !isLCAlpha(c) && !isDigit(c) && !strings.ContainsRune("_-.*", rune(c)) {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) bareItem() (any, error) {
	if p.eof() {
		return nil, p.fail("missing bare item")
	}
	switch c := p.peek(); {
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		return p.str()
	case c == '*' || isAlpha(c):
		return p.token(), nil
	case c == ':':
		return p.bytes()
	case c == '?':
		return p.boolean()
	case c == '@':
		p.i++
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		d, ok := n.(int64)
		if !ok {
			return nil, p.fail("date must be an integer")
		}
		return sfDate(d), nil
	case c == '%':
		return p.display()
	}
	return nil, p.fail("unrecognised bare item")
}

func (p *sfParser) number() (any, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	if p.eof() || !isDigit(p.peek()) {
		return nil, p.fail("number without digits")
	}
	digits, dot := 0, -1
	for !p.eof() {
		c := p.peek()
		switch {
		case isDigit(c):
			digits++
		case c == '.' && dot < 0:
			if digits > 12 {
				return nil, p.fail("decimal with more than 12 integer digits")
			}
			dot = digits
		default:
			goto done
		}
		if dot < 0 && digits > 15 {
			return nil, p.fail("integer with more than 15 digits")
		}
		if dot >= 0 && digits > 15 {
			return nil, p.fail("decimal with more than 15 digits")
		}
		p.i++
	}
done:
	text := p.s[start:p.i]
	if dot < 0 {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, p.fail("integer: %v", err)
		}
		return n, nil
	}
	if strings.HasSuffix(text, ".") || digits-dot > 3 {
		return nil, p.fail("decimal must have 1 to 3 fraction digits")
	}
	return sfDecimal(text), nil
}

func (p *sfParser) str() (string, error) {
	p.i++ // '"'
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch {
		case c == '\\':
			if p.eof() || (p.peek() != '"' && p.peek() != '\\') {
				return "", p.fail("bad escape in string")
			}
			b.WriteByte(p.peek())
			p.i++
		case c == '"':
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", p.fail("character %#x in string", c)
		default:
			b.WriteByte(c)
		}
	}
	return "", p.fail("unterminated string")
}

func (p *sfParser) token() sfToken {
	start := p.i
	p.i++
	for !p.eof() {
		c := p.peek()
		if !isAlpha(c) && !isDigit(c) && !strings.ContainsRune("!#$%&'*+-.^_`|~:/", rune(c)) {
			break
		}
		p.i++
	}
	return sfToken(p.s[start:p.i])
}

func (p *sfParser) bytes() ([]byte, error) {
	p.i++ // ':'
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return nil, p.fail("unterminated byte sequence")
	}
	b64 := p.s[p.i : p.i+end]
	for i := 0; i < len(b64); i++ {
		c := b64[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=' {
			return nil, p.fail("character %q in byte sequence", c)
		}
	}
	p.i += end + 1
	out, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, p.fail("byte sequence: %v", err)
	}
	return out, nil
}

func (p *sfParser) boolean() (bool, error) {
	p.i++ // '?'
	if p.eof() || (p.peek() != '0' && p.peek() != '1') {
		return false, p.fail("boolean must be ?0 or ?1")
	}
	v := p.peek() == '1'
	p.i++
	return v, nil
}

func (p *sfParser) display() (sfDisplay, error) {
	p.i++ // '%'
	if p.eof() || p.peek() != '"' {
		return "", p.fail("display string must start with %%\"")
	}
	p.i++
	var b []byte
	for !p.eof() {
		c := p.peek()
		p.i++
		switch {
		case c == '%':
			if p.i+2 > len(p.s) {
				return "", p.fail("short percent escape")
			}
			h := p.s[p.i : p.i+2]
			if strings.ToLower(h) != h {
				return "", p.fail("uppercase percent escape")
			}
			v, err := strconv.ParseUint(h, 16, 8)
			if err != nil {
				return "", p.fail("bad percent escape")
			}
			b = append(b, byte(v))
			p.i += 2
		case c == '"':
			if !utf8.Valid(b) {
				return "", p.fail("display string is not UTF-8")
			}
			return sfDisplay(b), nil
		case c < 0x20 || c > 0x7e:
			return "", p.fail("character %#x in display string", c)
		default:
			b = append(b, c)
		}
	}
	return "", p.fail("unterminated display string")
}
