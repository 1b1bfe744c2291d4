package httpapi

import (
	"mime"
	"regexp"
	"strings"
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

var ieQuotedPair = regexp.MustCompile(`\\[^()<>@,;:\\"/\[\]?=]|\\$`)

// FuzzEachParam holds the Accept parameter reader to mime.ParseMediaType
// on the media ranges both read: one range (no comma), no RFC 2231
// continuation ('*'), ASCII without line breaks (mime trims Unicode
// space), no quoted-pair of a character that is not a tspecial (mime
// keeps the backslash of those, for Internet Explorer's file names;
// RFC 9110 §5.6.4 drops it). Where mime accepts the range, both find the
// same version.
func FuzzEachParam(f *testing.F) {
	for _, seed := range []string{`application/json; version=v2`, `a/b;Version="v\"1"`, `a/b; q=0.5; version=v1`,
		`a/b; version=`, `a/b; x="a;version=v9"; version=v1`, `text/html`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got []string
		err := eachParam(s, "version", func(v string) error { got = append(got, v); return nil })
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if strings.ContainsAny(s, ",*\r\n\v\f") || strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) >= 0 ||
			ieQuotedPair.MatchString(s) {
			return
		}
		_, params, merr := mime.ParseMediaType(s)
		if merr != nil {
			return
		}
		want, ok := params["version"]
		if !ok {
			if len(got) != 0 {
				t.Fatalf("%q: read %q, mime none", s, got)
			}
			return
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("%q: read %q, mime %q", s, got, want)
		}
	})
}
