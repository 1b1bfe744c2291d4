package httpfield

// TrimOWS removes optional whitespace around a list element: spaces and
// horizontal tabs only (RFC 9110 section 5.6.3), unlike strings.TrimSpace,
// which also removes line breaks and Unicode spaces that a field value
// must not be forgiven for.
func TrimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
