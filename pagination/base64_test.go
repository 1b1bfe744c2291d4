package pagination

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

var strictRawURL = base64.RawURLEncoding.Strict()

// FuzzBase64 holds the cursor codec to encoding/base64's strict raw URL
// encoding: the same verdict and the same bytes for any text, and the same
// text for any bytes.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "-_-_", "a+/=", "QUJD", "QUI", "QQ", "QR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := decodeBase64(nil, s)
		if strings.ContainsAny(s, "\r\n") {
			// encoding/base64 skips line breaks; a cursor has none.
			if ok {
				t.Fatalf("%q accepted", s)
			}
			return
		}
		want, err := strictRawURL.DecodeString(s)
		if ok != (err == nil) {
			t.Fatalf("%q: ok=%v, encoding/base64 says %v", s, ok, err)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("%q: %x, want %x", s, got, want)
		}
		if enc := string(appendBase64(nil, []byte(s))); enc != base64.RawURLEncoding.EncodeToString([]byte(s)) {
			t.Fatalf("encode %q: %q", s, enc)
		}
	})
}

func TestBase64_RejectsNonCanonicalSpellings(t *testing.T) {
	for _, s := range []string{"QR", "QUJ", "QUJDRB", "A", "AAAAA", "QQ==", "Q Q", "QQ\n"} {
		if ok := func() bool { _, ok := decodeBase64(nil, s); return ok }(); ok {
			t.Errorf("%q accepted", s)
		}
	}
}
