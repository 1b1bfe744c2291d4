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

func base64Value(c byte) (uint, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return uint(c - 'A'), true
	case c >= 'a' && c <= 'z':
		return uint(c-'a') + 26, true
	case c >= '0' && c <= '9':
		return uint(c-'0') + 52, true
	case c == '-':
		return 62, true
	case c == '_':
		return 63, true
	}
	return 0, false
}

// decodeBase64 appends the bytes s encodes to dst. ok is false for a
// character outside the alphabet, an impossible length, or non-zero bits
// after the last byte.
func decodeBase64(dst []byte, s string) ([]byte, bool) {
	if len(s)%4 == 1 {
		return dst, false
	}
	var acc uint
	for len(s) > 0 {
		n := min(len(s), 4)
		acc = 0
		for i := range n {
			v, ok := base64Value(s[i])
			if !ok {
				return dst, false
			}
			acc = acc<<6 | v
		}
		switch n {
		case 4:
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
		case 3:
			if acc&3 != 0 {
				return dst, false
			}
			dst = append(dst, byte(acc>>10), byte(acc>>2))
		case 2:
			if acc&15 != 0 {
				return dst, false
			}
			dst = append(dst, byte(acc>>4))
		}
		s = s[n:]
	}
	return dst, true
}
