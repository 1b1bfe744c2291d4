package pagination

// The cursor's text form is base64url without padding (RFC 4648 §5), so it
// needs no escaping in a URL, a header or JSON. The codec is written out
// here, rather than taken from encoding/base64, to decode a string without
// first copying it to a []byte and to reject non-zero trailing bits, so that
// each cursor has exactly one spelling.

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func appendBase64(dst, src []byte) []byte {
	for len(src) >= 3 {
		v := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		dst = append(dst, base64URL[v>>18&63], base64URL[v>>12&63], base64URL[v>>6&63], base64URL[v&63])
		src = src[3:]
	}
	switch len(src) {
	case 2:
		v := uint(src[0])<<16 | uint(src[1])<<8
		dst = append(dst, base64URL[v>>18&63], base64URL[v>>12&63], base64URL[v>>6&63])
	case 1:
		v := uint(src[0]) << 16
		dst = append(dst, base64URL[v>>18&63], base64URL[v>>12&63])
	}
	return dst
}

// base64Index maps a byte to its value in the alphabet, 0xff outside it.
// It is a constant string, so the lookup costs one load and no state.
const base64Index = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x3e\xff\xff" +
	"\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\xff\xff\xff\xff\xff\xff" +
	"\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e" +
	"\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\xff\xff\xff\xff\x3f" +
	"\xff\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28" +
	"\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

func base64Value(c byte) (uint, bool) {
	v := base64Index[c]
	return uint(v), v != 0xff
}

// decodeBase64 appends the bytes s encodes to dst. ok is false for a
// character outside the alphabet, an impossible length, or non-zero bits
// after the last byte.
func decodeBase64(dst []byte, s string) ([]byte, bool) {
	if len(s)%4 == 1 {
		return dst, false
	}
	for len(s) >= 4 {
		a, b, c, d := base64Index[s[0]], base64Index[s[1]], base64Index[s[2]], base64Index[s[3]]
		if (a|b|c|d)&0x80 != 0 { // values are below 64; 0xff marks a stranger
			return dst, false
		}
		v := uint(a)<<18 | uint(b)<<12 | uint(c)<<6 | uint(d)
		dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
		s = s[4:]
	}
	if len(s) == 0 {
		return dst, true
	}
	var acc uint
	for i := range len(s) {
		v, ok := base64Value(s[i])
		if !ok {
			return dst, false
		}
		acc = acc<<6 | v
	}
	if len(s) == 3 {
		if acc&3 != 0 {
			return dst, false
		}
		return append(dst, byte(acc>>10), byte(acc>>2)), true
	}
	if acc&15 != 0 {
		return dst, false
	}
	return append(dst, byte(acc>>4)), true
}
