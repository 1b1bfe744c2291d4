package httpapi

import (
	"regexp"
	"testing"
)

// The reference grammar of an entity-tag list (RFC 9110 §5.6.1, §8.8.3),
// written as regular expressions: different code, same language. Go's
// regexp reads invalid UTF-8 as U+FFFD, which the etagc class includes
// with every other non-ASCII rune, as obs-text allows any byte ≥ 0x80.
const etagRE = `(?:W/)?"[\x21\x23-\x7e\x{80}-\x{10FFFF}]*"`

var (
	refList = regexp.MustCompile(`^[ \t,]*(?:` + etagRE + `(?:[ \t]*,[ \t,]*` + etagRE + `)*)?[ \t,]*$`)
	refTag  = regexp.MustCompile(`(W/)?"([\x21\x23-\x7e\x{80}-\x{10FFFF}]*)"`)
)

// FuzzTagList holds the allocation-free list reader to the reference: the
// same lists are valid, and they yield the same tags in the same order.
func FuzzTagList(f *testing.F) {
	for _, seed := range []string{`"xyzzy", "r2d2xxxx", "c3piozzzz"`, `W/"xyzzy", W/"r2d2xxxx"`, `, ,"a",,`, `"a" "b"`,
		`"a,b"`, `*`, `"a", *`, `"`, `W/`, "\"\xff\x80\"", " \t", `"a"x`, `"a",w/"b"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got []ETag
		var err parseError
		for l := (tagList{rest: s}); ; {
			e, ok, perr := l.next()
			if perr != errNone {
				err = perr
				break
			}
			if !ok {
				break
			}
			got = append(got, e)
		}
		valid := refList.MatchString(s)
		if (err == errNone) != valid {
			t.Fatalf("%q: reader error %v (%s), reference valid %v", s, err, err.reason(), valid)
		}
		if !valid {
			return
		}
		want := refTag.FindAllStringSubmatch(s, -1)
		if len(want) != len(got) {
			t.Fatalf("%q: %d tags, reference %d", s, len(got), len(want))
		}
		for i, m := range want {
			if got[i].Weak != (m[1] != "") || got[i].Opaque != m[2] {
				t.Fatalf("%q: tag %d is %+v, reference %q", s, i, got[i], m[0])
			}
		}
	})
}
