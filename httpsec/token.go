package httpsec

import (
	"net/http"
	"strings"
)

// isTchar reports whether c may appear in an HTTP token (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
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

// trimOWS removes optional whitespace (spaces and tabs) around a list
// element.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
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
