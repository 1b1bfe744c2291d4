package httpsec

import "net/http"

// tcharLow and tcharHigh are the bitmaps of the bytes 0-63 and 64-127
// that may appear in an HTTP token (RFC 9110 §5.6.2): letters, digits and
// !#$%&'*+-.^_`|~. TestIsTchar checks them against that definition.
const (
	tcharLow  uint64 = 0x3ff6cfa00000000
	tcharHigh uint64 = 0x57ffffffc7fffffe
)

func isTchar(c byte) bool {
	if c < 64 {
		return tcharLow&(1<<c) != 0
	}
	return c < 128 && tcharHigh&(1<<(c-64)) != 0
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s can be sent as a header value as is:
// visible ASCII and spaces only, so that configuration can never smuggle a
// line break into a response.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// one returns the value of a header sent exactly once. A repeated Origin or
// Access-Control-Request-Method is malformed and must not be guessed at.
func one(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	return values[0], true
}

// appendVary adds values to the Vary header without discarding what an
// outer middleware already put there.
func appendVary(h http.Header, values []string) {
	existing := h["Vary"]
	if len(existing) == 0 {
		h["Vary"] = values
		return
	}
	h["Vary"] = append(existing[:len(existing):len(existing)], values...)
}
