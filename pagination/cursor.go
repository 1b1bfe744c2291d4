package pagination

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// The binary form of a cursor, before base64url (no padding):
//
//	version    1 byte (cursorVersion)
//	flags      1 byte: backward, inclusive, has expiry
//	binding    4 bytes: prefix of the query binding, to tell "other query" from "forged"
//	expiry     uvarint Unix seconds, when the flag is set
//	values     one tagged value per sort column (see value.go)
//	tag        the Signer's tag of everything above || the full 32-byte binding
//	tag length 1 byte
//
// The full binding (sort name, spec fingerprint, filter) is signed but not
// carried, so a cursor is bound to its query at full strength for 4 bytes.
// The tag is the Signer's own (a key ring's names its key), so its length
// travels at the very end, where a parser finds it first; it is not signed,
// and needs not be: another length splits the bytes elsewhere, and the tag
// then fails.
const (
	cursorVersion = 2
	shortBindLen  = 4
	headerLen     = 1 + 1 + shortBindLen
	minRawLen     = headerLen + 1 + minTagLen + 1 // one value at least
	minTextLen    = (minRawLen*8 + 5) / 6
)

const (
	flagBackward byte = 1 << iota
	flagInclusive
	flagExpiry
	flagsKnown = flagBackward | flagInclusive | flagExpiry
)

// position is a decoded cursor: where a page starts and which way it goes.
type position struct {
	backward  bool
	inclusive bool
	values    []any
}

// scratch holds a cursor's bytes while it is signed or checked, pooled so
// that neither allocates beyond its result.
type scratch struct {
	raw []byte // the cursor's binary form
	msg []byte // what the tag covers
}

// maxPooledScratch keeps one huge cursor from pinning memory in the pool.
const maxPooledScratch = 4096

func (p *Pager) getScratch() *scratch {
	if s, ok := p.scratch.Get().(*scratch); ok {
		return s
	}
	return &scratch{raw: make([]byte, 0, 256), msg: make([]byte, 0, 256)}
}

func (p *Pager) putScratch(s *scratch) {
	if cap(s.raw) > maxPooledScratch || cap(s.msg) > maxPooledScratch {
		return
	}
	p.scratch.Put(s)
}

// encodeCursor signs pos, bound to binding.
func (p *Pager) encodeCursor(binding *[32]byte, pos position, expiry int64, col func(int) string) (string, error) {
	sc := p.getScratch()
	defer p.putScratch(sc)
	b := sc.raw[:0]
	var flags byte
	if pos.backward {
		flags |= flagBackward
	}
	if pos.inclusive {
		flags |= flagInclusive
	}
	if expiry > 0 {
		flags |= flagExpiry
	}
	b = append(b, cursorVersion, flags)
	b = append(b, binding[:shortBindLen]...)
	if expiry > 0 {
		b = binary.AppendUvarint(b, uint64(expiry))
	}
	for i, v := range pos.values {
		var reason string
		if b, reason = appendValue(b, v); reason != "" {
			sc.raw = b
			return "", &ValueError{Column: col(i), Reason: reason}
		}
	}
	sc.msg = append(append(sc.msg[:0], b...), binding[:]...)
	n := len(b)
	b, err := p.signer.SignTo(b, sc.msg)
	if err != nil {
		sc.raw = b[:n]
		return "", fmt.Errorf("pagination: signing a cursor: %w", err)
	}
	if tl := len(b) - n; tl < minTagLen || tl > maxTagLen {
		sc.raw = b
		return "", fmt.Errorf("pagination: the Signer made a tag of %d bytes, want %d to %d", tl, minTagLen, maxTagLen)
	}
	b = append(b, byte(len(b)-n))
	n = len(b)
	b = appendBase64(b, b[:n])
	sc.raw = b
	return string(b[n:]), nil
}

// cursorLayout is what can be read of a cursor before its tag is checked.
type cursorLayout struct {
	flags  byte
	short  [shortBindLen]byte
	signed int // length of the signed part: header, expiry, values
	tagLen int
}

// parseLayout checks the parts of raw that need no key: version, flags and
// the tag's length.
func parseLayout(raw []byte) (cursorLayout, *CursorError) {
	var l cursorLayout
	if len(raw) < minRawLen {
		return l, cursorErr(ErrCursorMalformed, "too short")
	}
	if raw[0] != cursorVersion {
		return l, cursorErr(ErrCursorMalformed, "unknown format version "+strconv.Itoa(int(raw[0])))
	}
	l.flags = raw[1]
	if l.flags&^flagsKnown != 0 {
		return l, cursorErr(ErrCursorMalformed, "unknown flags")
	}
	copy(l.short[:], raw[2:])
	l.tagLen = int(raw[len(raw)-1])
	l.signed = len(raw) - 1 - l.tagLen
	if l.tagLen < minTagLen || l.signed < headerLen+1 {
		return l, cursorErr(ErrCursorMalformed, "bad tag length")
	}
	return l, nil
}

// readCursor decodes the text s into sc.raw and checks what needs no key:
// the length, the alphabet and the layout.
func (p *Pager) readCursor(sc *scratch, s string) ([]byte, cursorLayout, *CursorError) {
	if len(s) > p.cfg.MaxCursorLen {
		return nil, cursorLayout{}, cursorErr(ErrCursorMalformed, "longer than "+strconv.Itoa(p.cfg.MaxCursorLen)+" characters")
	}
	if len(s) < minTextLen {
		return nil, cursorLayout{}, cursorErr(ErrCursorMalformed, "too short")
	}
	raw, ok := decodeBase64(sc.raw[:0], s)
	sc.raw = raw
	if !ok {
		return nil, cursorLayout{}, cursorErr(ErrCursorMalformed, "not base64url")
	}
	l, cerr := parseLayout(raw)
	return raw, l, cerr
}

// checkCursorText checks what can be checked of s without its query.
// ParseRequest runs it, so that a cursor that can never verify is refused
// before the caller builds its query; Query checks the rest.
func (p *Pager) checkCursorText(s string) *CursorError {
	sc := p.getScratch()
	defer p.putScratch(sc)
	_, _, cerr := p.readCursor(sc, s)
	return cerr
}

// decodeCursor checks the cursor s and returns its position. Checks run in
// an order that never reveals more than needed: format, tag, binding,
// expiry, and only then the values.
func (p *Pager) decodeCursor(binding *[32]byte, s string, nowUnix int64, cols int) (position, *CursorError) {
	sc := p.getScratch()
	defer p.putScratch(sc)
	raw, l, cerr := p.readCursor(sc, s)
	if cerr != nil {
		return position{}, cerr
	}
	var pos position
	signed, tag := raw[:l.signed], raw[l.signed:len(raw)-1]
	sc.msg = append(append(sc.msg[:0], signed...), binding[:]...)
	if err := p.signer.Verify(sc.msg, tag); err != nil {
		if [shortBindLen]byte(binding[:shortBindLen]) != l.short {
			return pos, cursorErr(ErrCursorMismatch, "issued for a different sort or filter")
		}
		return pos, &CursorError{Reason: ErrCursorSignature, Err: err}
	}
	return readBody(signed, l, nowUnix, cols)
}

func readBody(signed []byte, l cursorLayout, nowUnix int64, cols int) (position, *CursorError) {
	pos := position{backward: l.flags&flagBackward != 0, inclusive: l.flags&flagInclusive != 0}
	rest := signed[headerLen:]
	if l.flags&flagExpiry != 0 {
		exp, n := binary.Uvarint(rest)
		if n <= 0 {
			return pos, cursorErr(ErrCursorMalformed, "bad expiry")
		}
		if exp > 1<<62 || nowUnix >= int64(exp) {
			return pos, cursorErr(ErrCursorExpired, "expired at "+time.Unix(int64(min(exp, 1<<62)), 0).UTC().Format(time.RFC3339))
		}
		rest = rest[n:]
	}
	pos.values = make([]any, 0, cols)
	for len(rest) > 0 {
		if len(pos.values) == cols {
			return pos, cursorErr(ErrCursorMalformed, "more values than sort columns")
		}
		v, r, ok := readValue(rest)
		if !ok {
			return pos, cursorErr(ErrCursorMalformed, "bad value")
		}
		pos.values = append(pos.values, v)
		rest = r
	}
	if len(pos.values) != cols {
		return pos, cursorErr(ErrCursorMalformed, "fewer values than sort columns")
	}
	return pos, nil
}
