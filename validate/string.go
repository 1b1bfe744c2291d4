package validate

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// StringField checks one string. Rules run in the order they are chained
// and stop at the first that fails, so a field gets at most one violation.
// An absent optional field (a nil pointer given to [Validator.StringPtr])
// passes every rule except Required and Present.
type StringField struct {
	v      *Validator
	name   string
	s      string
	absent bool
	failed bool
}

// String starts the rules of the string member name ("" for the current
// path, such as a slice element).
func (v *Validator) String(name, s string) StringField {
	v.seen(name)
	return StringField{v: v, name: name, s: s}
}

// StringPtr starts the rules of an optional string member: nil is absent.
func (v *Validator) StringPtr(name string, p *string) StringField {
	v.seen(name)
	if p == nil {
		return StringField{v: v, name: name, absent: true}
	}
	return StringField{v: v, name: name, s: *p}
}

// Failed reports whether a rule of the chain has failed.
func (f StringField) Failed() bool { return f.failed }

func (f StringField) skip() bool { return f.failed || f.absent }

// fail records the violation; it stays out of line so that the fast
// path of each rule is small enough to inline.
//
//go:noinline
func (f StringField) fail(code, template string, params ...Param) StringField {
	f.v.Report(f.name, code, template, params...)
	f.failed = true
	return f
}

// Required fails with [CodeRequired] when the string is absent or empty.
func (f StringField) Required() StringField {
	if f.failed || (!f.absent && f.s != "") {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// Present fails with [CodeRequired] when the string is absent; "" is
// present. It only makes sense after [Validator.StringPtr].
func (f StringField) Present() StringField {
	if f.failed || !f.absent {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// NotBlank fails with [CodeBlank] when the string is made only of white
// space (an empty string is left to Required).
func (f StringField) NotBlank() StringField {
	if f.skip() || f.s == "" || strings.TrimSpace(f.s) != "" {
		return f
	}
	return f.fail(CodeBlank, msgBlank)
}

// Runes fails with [CodeTooShort] or [CodeTooLong] unless the string has
// between lo and hi characters (Unicode code points), inclusive. Counting
// runes rather than bytes is what a person means by "50 characters".
func (f StringField) Runes(lo, hi int) StringField {
	if f.skip() {
		return f
	}
	n := utf8.RuneCountInString(f.s)
	if n < lo {
		return f.fail(CodeTooShort, msgTooShort, Param{"min", lo})
	}
	if n > hi {
		return f.fail(CodeTooLong, msgTooLong, Param{"max", hi})
	}
	return f
}

// MinRunes fails with [CodeTooShort] when the string has fewer than n
// characters.
func (f StringField) MinRunes(n int) StringField {
	if f.skip() || len(f.s)/utf8.UTFMax >= n || utf8.RuneCountInString(f.s) >= n {
		return f
	}
	return f.fail(CodeTooShort, msgTooShort, Param{"min", n})
}

// MaxRunes fails with [CodeTooLong] when the string has more than n
// characters.
func (f StringField) MaxRunes(n int) StringField {
	if f.skip() || len(f.s) <= n || utf8.RuneCountInString(f.s) <= n {
		return f
	}
	return f.fail(CodeTooLong, msgTooLong, Param{"max", n})
}

// MinBytes fails with [CodeTooFewBytes] when the string is shorter than n
// bytes.
func (f StringField) MinBytes(n int) StringField {
	if f.skip() || len(f.s) >= n {
		return f
	}
	return f.fail(CodeTooFewBytes, msgTooFewBytes, Param{"min", n})
}

// MaxBytes fails with [CodeTooManyBytes] when the string is longer than n
// bytes, the limit a database column usually has.
func (f StringField) MaxBytes(n int) StringField {
	if f.skip() || len(f.s) <= n {
		return f
	}
	return f.fail(CodeTooManyBytes, msgTooManyBytes, Param{"max", n})
}

// OneOf fails with [CodeNotAllowed] unless the string equals one of
// allowed (exactly, case included).
func (f StringField) OneOf(allowed ...string) StringField {
	if f.skip() || slices.Contains(allowed, f.s) {
		return f
	}
	return f.fail(CodeNotAllowed, msgNotAllowed, Param{"allowed", slices.Clone(allowed)})
}

// Match fails with [CodePattern] unless re matches the string. Compile re
// once, in a package-level variable: compiling per call is what makes
// tag-based validators slow.
func (f StringField) Match(re *regexp.Regexp) StringField {
	if f.skip() || re.MatchString(f.s) {
		return f
	}
	return f.fail(CodePattern, msgPattern, Param{"pattern", re.String()})
}

// Email fails with [CodeEmail] unless the string is an RFC 5322 addr-spec
// in the subset that mail systems accept in practice:
//
//   - local part: a dot-atom of ASCII letters, digits and !#$%&'*+/=?^_`{|}~-,
//     at most 64 bytes, without leading, trailing or doubled dots;
//     quoted strings and comments are refused;
//   - domain: at least two dot-separated labels of ASCII letters, digits and
//     hyphens, each 1–63 bytes and not starting or ending with a hyphen;
//     IP literals and internationalised names not in punycode are refused;
//   - at most 254 bytes in all, the limit of an SMTP path.
//
// It does not look the domain up.
func (f StringField) Email() StringField {
	if f.skip() || IsEmail(f.s) {
		return f
	}
	return f.fail(CodeEmail, msgEmail)
}

// URL fails with [CodeURL] unless the string is an absolute URL with a
// host, and with [CodeURLScheme] when its scheme is not in schemes
// (compared without case; "http" and "https" when none is given). Parsing a
// URL allocates.
func (f StringField) URL(schemes ...string) StringField {
	if f.skip() {
		return f
	}
	u, err := url.Parse(f.s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || strings.ContainsAny(f.s, " \t\r\n") {
		return f.fail(CodeURL, msgURL)
	}
	if len(schemes) == 0 {
		if u.Scheme == "http" || u.Scheme == "https" {
			return f
		}
		return f.fail(CodeURLScheme, msgURLScheme, Param{"allowed", []string{"http", "https"}})
	}
	for _, s := range schemes {
		if strings.EqualFold(s, u.Scheme) {
			return f
		}
	}
	return f.fail(CodeURLScheme, msgURLScheme, Param{"allowed", slices.Clone(schemes)})
}

// UUID fails with [CodeUUID] unless the string is a UUID in the
// 8-4-4-4-12 hexadecimal form of RFC 9562 (either case; any version).
func (f StringField) UUID() StringField {
	if f.skip() || IsUUID(f.s) {
		return f
	}
	return f.fail(CodeUUID, msgUUID)
}

// DateTime fails with [CodeDateTime] unless the string is an RFC 3339
// date-time, the profile of ISO 8601 that JSON APIs use: a full date, "T",
// a time with optional fraction, and "Z" or a numeric offset.
func (f StringField) DateTime() StringField {
	if f.skip() {
		return f
	}
	if _, err := time.Parse(time.RFC3339Nano, f.s); err == nil {
		return f
	}
	return f.fail(CodeDateTime, msgDateTime)
}

// Slug fails with [CodeSlug] unless the string is lower-case ASCII letters
// and digits in groups joined by single hyphens ("my-post-2").
func (f StringField) Slug() StringField {
	if f.skip() || IsSlug(f.s) {
		return f
	}
	return f.fail(CodeSlug, msgSlug)
}

// NoControl fails with [CodeInvalidUTF8] when the string is not valid
// UTF-8 and with [CodeControlCharacter] when it holds a control character
// (C0, DEL, C1, including tab and newline) or a bidirectional override or
// isolate (U+202A–U+202E, U+2066–U+2069), which can make text display
// differently from what it is.
func (f StringField) NoControl() StringField {
	if f.skip() {
		return f
	}
	for i := 0; i < len(f.s); {
		c := f.s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return f.fail(CodeControlCharacter, msgControlCharacter)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(f.s[i:])
		if r == utf8.RuneError && size == 1 {
			return f.fail(CodeInvalidUTF8, msgInvalidUTF8)
		}
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return f.fail(CodeControlCharacter, msgControlCharacter)
		}
		i += size
	}
	return f
}

// Check fails with code and template (English, with no placeholders) when
// ok is false: the way to add a rule the builder does not have.
func (f StringField) Check(ok bool, code, template string) StringField {
	if f.skip() || ok {
		return f
	}
	return f.fail(code, template)
}

// Func fails with code and template when rule returns false. Unlike
// Check, rule is not called for an absent field or after a failure.
func (f StringField) Func(rule func(string) bool, code, template string) StringField {
	if f.skip() || rule(f.s) {
		return f
	}
	return f.fail(code, template)
}

// IsEmail reports whether s is an email address in the subset described at
// [StringField.Email].
func IsEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 {
		return false
	}
	return isDotAtom(s[:at]) && isHostname(s[at+1:], 2)
}

func isDotAtom(s string) bool {
	prevDot := true // a leading dot is refused like a doubled one
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if prevDot {
				return false
			}
			prevDot = true
			continue
		}
		if !isAtext(c) {
			return false
		}
		prevDot = false
	}
	return !prevDot
}

func isAtext(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isHostname reports whether s is a DNS name of at least minLabels LDH
// labels.
func isHostname(s string, minLabels int) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		n := i - start
		if n == 0 || n > 63 || s[start] == '-' || s[i-1] == '-' {
			return false
		}
		labels++
		start = i + 1
	}
	return labels >= minLabels
}

// IsUUID reports whether s is a UUID in its 36-character form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// IsSlug reports whether s is a slug as described at [StringField.Slug].
func IsSlug(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}
