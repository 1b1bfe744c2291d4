package httpsec

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// spiffeReference is the grammar of the SPIFFE ID specification, section
// 2, as a regular expression; the length limit and the "." and ".."
// segments are checked beside it.
var spiffeReference = regexp.MustCompile(`^spiffe://([a-z0-9._-]+)((/[a-zA-Z0-9._-]+)*)$`)

func referenceSPIFFE(s string) (string, bool) {
	m := spiffeReference.FindStringSubmatch(s)
	if m == nil || len(s) > 2048 {
		return "", false
	}
	for _, seg := range strings.Split(m[2], "/")[1:] {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	return m[1], true
}

func TestParseSPIFFEID(t *testing.T) {
	for s, want := range map[string]string{
		"spiffe://example.org":                                 "example.org",
		"spiffe://example.org/ns/prod/sa/api":                  "example.org",
		"spiffe://a_b-c.d/A.b-c_D/..x/x..":                     "a_b-c.d",
		"spiffe://example.org/" + strings.Repeat("a", 2048-21): "example.org",
	} {
		td, err := parseSPIFFEID(s)
		if err != nil || td != want {
			t.Errorf("parseSPIFFEID(%q) = %q, %v; want %q", s, td, err, want)
		}
	}
	for _, s := range []string{"", "spiffe://", "spiffe:///", "spiffe://example.org/", "SPIFFE://example.org", "spiffe://exa mple.org",
		"spiffe://example.org/" + strings.Repeat("a", 2048-20), "http://example.org/x", "spiffe://example.org/a//b"} {
		if _, err := parseSPIFFEID(s); !errors.Is(err, ErrInvalidSPIFFEID) {
			t.Errorf("parseSPIFFEID(%q) = %v, want ErrInvalidSPIFFEID", s, err)
		}
	}
}

func FuzzParseSPIFFEID(f *testing.F) {
	for _, s := range []string{"spiffe://example.org", "spiffe://example.org/a/b", "spiffe://example.org/a/./b", "spiffe://EXAMPLE.org", "spiffe://x/%41", "spiffe://x:1/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		td, err := parseSPIFFEID(s)
		want, ok := referenceSPIFFE(s)
		if ok != (err == nil) || td != want {
			t.Fatalf("parseSPIFFEID(%q) = %q, %v; the specification says %q, %v", s, td, err, want, ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidSPIFFEID) {
			t.Fatalf("error %v does not match ErrInvalidSPIFFEID", err)
		}
	})
}
