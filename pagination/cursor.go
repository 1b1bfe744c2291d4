package pagination

import (
	"crypto/hmac"
	"encoding/binary"
	"strconv"
	"time"
)

// The binary form of a cursor, before base64url (no padding):
//
//	version    1 byte (cursorVersion)
//	key id     uvarint
//	flags      1 byte: backward, inclusive, has expiry
//	binding    4 bytes: prefix of the query binding, to tell "other query" from "forged"
//	expiry     uvarint Unix seconds, when the flag is set
//	values     one tagged value per sort column (see value.go)
//	tag        16 bytes: HMAC-SHA256(key, everything above || full 32-byte binding)
//
// The full binding (sort name, spec fingerprint, filter) is signed but not
// carried, so a cursor is bound to its query at full strength for 4 bytes.
// A 128-bit tag is the usual truncation of HMAC-SHA256 and leaves forgery
// at 2^-128 per attempt.
const (
	cursorVersion = 1
	tagLen        = 16
	shortBindLen  = 4
	minRawLen     = 1 + 1 + 1 + shortBindLen + 1 + tagLen // one value at least
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

// encodeCursor signs pos under key, bound to binding.
func encodeCursor(key *ringKey, binding *[32]byte, pos position, expiry int64, col func(int) string) (string, error) {
	st := key.get()
	defer key.put(st)
	b := append(st.buf[:0], cursorVersion)
	b = binary.AppendUvarint(b, uint64(key.id))
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
	b = append(b, flags)
	b = append(b, binding[:shortBindLen]...)
	if expiry > 0 {
		b = binary.AppendUvarint(b, uint64(expiry))
	}
	for i, v := range pos.values {
		var reason string
		if b, reason = appendValue(b, v); reason != "" {
			st.buf = b
			return "", &ValueError{Column: col(i), Reason: reason}
		}
	}
	st.h.Write(b)
	st.h.Write(binding[:])
	b = append(b, st.h.Sum(st.sum[:0])[:tagLen]...)
	n := len(b)
	b = appendBase64(b, b[:n])
	st.buf = b
	return string(b[n:]), nil
}

// cursorHeader is what can be read before the signature is checked.
type cursorHeader struct {
	keyID uint32
	flags byte
	short [shortBindLen]byte
	body  int // offset of the expiry or values
}

func parseHeader(raw []byte) (cursorHeader, *CursorError) {
	var h cursorHeader
	if len(raw) < minRawLen {
		return h, cursorErr(ErrCursorMalformed, "too short")
	}
	if raw[0] != cursorVersion {
		return h, cursorErr(ErrCursorMalformed, "unknown format version "+strconv.Itoa(int(raw[0])))
	}
	id, n := binary.Uvarint(raw[1:])
	if n <= 0 || id > 1<<32-1 {
		return h, cursorErr(ErrCursorMalformed, "bad key id")
	}
	h.keyID = uint32(id)
	i := 1 + n
	if len(raw)-i < 1+shortBindLen+1+tagLen {
		return h, cursorErr(ErrCursorMalformed, "too short")
	}
	h.flags = raw[i]
	if h.flags&^flagsKnown != 0 {
		return h, cursorErr(ErrCursorMalformed, "unknown flags")
	}
	copy(h.short[:], raw[i+1:])
	h.body = i + 1 + shortBindLen
	return h, nil
}

// decodeCursor checks the cursor s and returns its position. Checks run in
// an order that never reveals more than needed: format, key, signature,
// binding, expiry, and only then the values.
func decodeCursor(ring *KeyRing, binding *[32]byte, s string, nowUnix int64, cols int) (position, *CursorError) {
	var pos position
	if len(s) < minTextLen {
		return pos, cursorErr(ErrCursorMalformed, "too short")
	}
	// The key id must be known before the pooled buffer of its key can be
	// used: decode just the first 6 bytes, which hold the version and the id.
	var head [6]byte
	headRaw, ok := decodeBase64(head[:0], s[:8])
	if !ok {
		return pos, cursorErr(ErrCursorMalformed, "not base64url")
	}
	if headRaw[0] != cursorVersion {
		return pos, cursorErr(ErrCursorMalformed, "unknown format version "+strconv.Itoa(int(headRaw[0])))
	}
	id, n := binary.Uvarint(headRaw[1:])
	if n <= 0 || id > 1<<32-1 {
		return pos, cursorErr(ErrCursorMalformed, "bad key id")
	}
	key := ring.byID[uint32(id)]
	if key == nil {
		return pos, cursorErr(ErrCursorUnknownKey, "key id "+strconv.FormatUint(id, 10))
	}
	st := key.get()
	defer key.put(st)
	raw, ok := decodeBase64(st.buf[:0], s)
	st.buf = raw
	if !ok {
		return pos, cursorErr(ErrCursorMalformed, "not base64url")
	}
	h, cerr := parseHeader(raw)
	if cerr != nil {
		return pos, cerr
	}
	signed := raw[:len(raw)-tagLen]
	st.h.Write(signed)
	st.h.Write(binding[:])
	if !hmac.Equal(st.h.Sum(st.sum[:0])[:tagLen], raw[len(signed):]) {
		if [shortBindLen]byte(binding[:shortBindLen]) != h.short {
			return pos, cursorErr(ErrCursorMismatch, "issued for a different sort or filter")
		}
		return pos, cursorErr(ErrCursorSignature, "")
	}
	return readBody(signed, h, nowUnix, cols)
}

func readBody(signed []byte, h cursorHeader, nowUnix int64, cols int) (position, *CursorError) {
	pos := position{backward: h.flags&flagBackward != 0, inclusive: h.flags&flagInclusive != 0}
	rest := signed[h.body:]
	if h.flags&flagExpiry != 0 {
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
