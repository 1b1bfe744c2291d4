package validate_test

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

// ruleCase runs rules against a fresh Validator; want is the code of the
// single violation expected at path, or "" for none.
type ruleCase struct {
	name  string
	rules func(v *validate.Validator)
	want  string
	path  string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v validate.Validator
			tc.rules(&v)
			err := v.Err()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var verrs *validate.Errors
			require.ErrorAs(t, err, &verrs)
			require.Len(t, verrs.Violations, 1, "%v", err)
			got := verrs.Violations[0]
			assert.Equal(t, tc.want, got.Code)
			path := tc.path
			if path == "" {
				path = "f"
			}
			assert.Equal(t, path, got.Path.String())
			assert.NotEmpty(t, got.Message(nil))
			if got.Code != validate.CodePattern { // a pattern may hold braces
				assert.NotContains(t, got.Message(nil), "{", "unrendered placeholder in %q", got.Template)
			}
		})
	}
}

func str(s string) *string { return &s }

var skuPattern = regexp.MustCompile(`^[A-Z]{3}-[0-9]{4}$`)

func TestStringRules(t *testing.T) {
	s := func(val string, chain func(validate.StringField) validate.StringField) func(*validate.Validator) {
		return func(v *validate.Validator) { chain(v.String("f", val)) }
	}
	runRuleCases(t, []ruleCase{
		{"required passes non-empty", s("x", validate.StringField.Required), "", ""},
		{"required refuses empty", s("", validate.StringField.Required), validate.CodeRequired, ""},
		{"not blank refuses spaces", s(" \t", validate.StringField.NotBlank), validate.CodeBlank, ""},
		{"not blank leaves empty to required", s("", validate.StringField.NotBlank), "", ""},
		{"runes counts characters not bytes", s("ééé", func(f validate.StringField) validate.StringField { return f.Runes(2, 3) }), "", ""},
		{"runes too short", s("é", func(f validate.StringField) validate.StringField { return f.Runes(2, 3) }), validate.CodeTooShort, ""},
		{"runes too long", s("éééé", func(f validate.StringField) validate.StringField { return f.Runes(2, 3) }), validate.CodeTooLong, ""},
		{"min runes", s("ab", func(f validate.StringField) validate.StringField { return f.MinRunes(3) }), validate.CodeTooShort, ""},
		{"min runes multibyte passes", s("日本語", func(f validate.StringField) validate.StringField { return f.MinRunes(3) }), "", ""},
		{"max runes", s("日本語", func(f validate.StringField) validate.StringField { return f.MaxRunes(2) }), validate.CodeTooLong, ""},
		{"max runes at limit", s("日本", func(f validate.StringField) validate.StringField { return f.MaxRunes(2) }), "", ""},
		{"min bytes", s("é", func(f validate.StringField) validate.StringField { return f.MinBytes(3) }), validate.CodeTooFewBytes, ""},
		{"max bytes counts bytes", s("éé", func(f validate.StringField) validate.StringField { return f.MaxBytes(3) }), validate.CodeTooManyBytes, ""},
		{"one of passes", s("b", func(f validate.StringField) validate.StringField { return f.OneOf("a", "b") }), "", ""},
		{"one of is case-sensitive", s("B", func(f validate.StringField) validate.StringField { return f.OneOf("a", "b") }), validate.CodeNotAllowed, ""},
		{"match passes", s("ABC-1234", func(f validate.StringField) validate.StringField { return f.Match(skuPattern) }), "", ""},
		{"match refuses", s("abc-1234", func(f validate.StringField) validate.StringField { return f.Match(skuPattern) }), validate.CodePattern, ""},
		{"email passes", s("first.last+tag@mail.example.co.uk", validate.StringField.Email), "", ""},
		{"email refuses missing at", s("example.com", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses single-label domain", s("a@localhost", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses doubled dot", s("a..b@example.com", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses leading dot", s(".a@example.com", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses hyphen edge label", s("a@-example.com", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses quoted local part", s(`"a b"@example.com`, validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses ip literal", s("a@[127.0.0.1]", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses display name", s("Ada <ada@example.com>", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses long local part", s(strings.Repeat("a", 65)+"@example.com", validate.StringField.Email), validate.CodeEmail, ""},
		{"email refuses non-ascii", s("adà@example.com", validate.StringField.Email), validate.CodeEmail, ""},
		{"url passes https", s("https://example.com/a?b=c", func(f validate.StringField) validate.StringField { return f.URL() }), "", ""},
		{"url refuses relative", s("/a/b", func(f validate.StringField) validate.StringField { return f.URL() }), validate.CodeURL, ""},
		{"url refuses opaque", s("mailto:a@example.com", func(f validate.StringField) validate.StringField { return f.URL("mailto") }), validate.CodeURL, ""},
		{"url refuses javascript by default", s("javascript://example.com/%0aalert(1)", func(f validate.StringField) validate.StringField { return f.URL() }), validate.CodeURLScheme, ""},
		{"url allow-list", s("ftp://example.com/x", func(f validate.StringField) validate.StringField { return f.URL("https") }), validate.CodeURLScheme, ""},
		{"url allow-list ignores case", s("HTTPS://example.com", func(f validate.StringField) validate.StringField { return f.URL("https") }), "", ""},
		{"uuid passes", s("123e4567-E89B-12d3-a456-426614174000", validate.StringField.UUID), "", ""},
		{"uuid refuses braces", s("{123e4567-e89b-12d3-a456-426614174000}", validate.StringField.UUID), validate.CodeUUID, ""},
		{"uuid refuses misplaced hyphen", s("123e4567e-89b-12d3-a456-426614174000", validate.StringField.UUID), validate.CodeUUID, ""},
		{"datetime passes offset and fraction", s("2026-01-02T15:04:05.123+02:00", validate.StringField.DateTime), "", ""},
		{"datetime refuses date only", s("2026-01-02", validate.StringField.DateTime), validate.CodeDateTime, ""},
		{"datetime refuses missing zone", s("2026-01-02T15:04:05", validate.StringField.DateTime), validate.CodeDateTime, ""},
		{"slug passes", s("my-post-2", validate.StringField.Slug), "", ""},
		{"slug refuses upper case", s("My-post", validate.StringField.Slug), validate.CodeSlug, ""},
		{"slug refuses double hyphen", s("my--post", validate.StringField.Slug), validate.CodeSlug, ""},
		{"slug refuses trailing hyphen", s("post-", validate.StringField.Slug), validate.CodeSlug, ""},
		{"no control passes text", s("héllo wörld", validate.StringField.NoControl), "", ""},
		{"no control refuses newline", s("a\nb", validate.StringField.NoControl), validate.CodeControlCharacter, ""},
		{"no control refuses DEL", s("a\x7fb", validate.StringField.NoControl), validate.CodeControlCharacter, ""},
		{"no control refuses C1", s("a\u0085b", validate.StringField.NoControl), validate.CodeControlCharacter, ""},
		{"no control refuses bidi override", s("abc\u202edcba", validate.StringField.NoControl), validate.CodeControlCharacter, ""},
		{"no control refuses invalid utf-8", s("a\xffb", validate.StringField.NoControl), validate.CodeInvalidUTF8, ""},
		{"check custom", s("x", func(f validate.StringField) validate.StringField { return f.Check(false, "reserved", "is reserved") }), "reserved", ""},
		{"func custom", s("admin", func(f validate.StringField) validate.StringField {
			return f.Func(func(s string) bool { return s != "admin" }, "reserved", "is reserved")
		}), "reserved", ""},
		{"first failure stops the chain", s("", func(f validate.StringField) validate.StringField { return f.Required().MinRunes(3).Email() }), validate.CodeRequired, ""},
	})
}

func TestStringPtr_PresentIsNotNonZero(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{"absent passes other rules", func(v *validate.Validator) { v.StringPtr("f", nil).Email().MinRunes(3) }, "", ""},
		{"absent fails present", func(v *validate.Validator) { v.StringPtr("f", nil).Present() }, validate.CodeRequired, ""},
		{"empty is present", func(v *validate.Validator) { v.StringPtr("f", str("")).Present() }, "", ""},
		{"empty is not required", func(v *validate.Validator) { v.StringPtr("f", str("")).Required() }, validate.CodeRequired, ""},
		{"present value is checked", func(v *validate.Validator) { v.StringPtr("f", str("x")).Email() }, validate.CodeEmail, ""},
	})
}

func TestNumberRules(t *testing.T) {
	zero, seven := 0, 7
	runRuleCases(t, []ruleCase{
		{"min passes", func(v *validate.Validator) { validate.Number(v, "f", 5).Min(5) }, "", ""},
		{"min refuses", func(v *validate.Validator) { validate.Number(v, "f", 4).Min(5) }, validate.CodeTooSmall, ""},
		{"max refuses", func(v *validate.Validator) { validate.Number(v, "f", int8(6)).Max(5) }, validate.CodeTooLarge, ""},
		{"between passes bounds", func(v *validate.Validator) { validate.Number(v, "f", 130).Between(0, 130) }, "", ""},
		{"between refuses", func(v *validate.Validator) { validate.Number(v, "f", -1).Between(0, 130) }, validate.CodeOutOfRange, ""},
		{"NaN is out of range", func(v *validate.Validator) { validate.Number(v, "f", math.NaN()).Between(0, 1) }, validate.CodeOutOfRange, ""},
		{"positive refuses zero", func(v *validate.Validator) { validate.Number(v, "f", 0.0).Positive() }, validate.CodeNotPositive, ""},
		{"non-negative refuses", func(v *validate.Validator) { validate.Number(v, "f", -0.5).NonNegative() }, validate.CodeNegative, ""},
		{"multiple of int", func(v *validate.Validator) { validate.Number(v, "f", 10).MultipleOf(3) }, validate.CodeNotMultiple, ""},
		{"multiple of float tolerates rounding", func(v *validate.Validator) { validate.Number(v, "f", 0.3).MultipleOf(0.1) }, "", ""},
		{"multiple of float refuses", func(v *validate.Validator) { validate.Number(v, "f", 0.35).MultipleOf(0.1) }, validate.CodeNotMultiple, ""},
		{"multiple of uint", func(v *validate.Validator) { validate.Number(v, "f", uint64(math.MaxUint64)).MultipleOf(5) }, "", ""},
		{"multiple of zero only zero", func(v *validate.Validator) { validate.Number(v, "f", 1).MultipleOf(0) }, validate.CodeNotMultiple, ""},
		{"multiple of minus one at min int", func(v *validate.Validator) { validate.Number(v, "f", int64(math.MinInt64)).MultipleOf(-1) }, "", ""},
		{"one of", func(v *validate.Validator) { validate.Number(v, "f", 3).OneOf(1, 2) }, validate.CodeNotAllowed, ""},
		{"required refuses zero", func(v *validate.Validator) { validate.Number(v, "f", 0).Required() }, validate.CodeRequired, ""},
		{"ptr absent skips", func(v *validate.Validator) { validate.NumberPtr[int](v, "f", nil).Min(1) }, "", ""},
		{"ptr zero is present", func(v *validate.Validator) { validate.NumberPtr(v, "f", &zero).Present() }, "", ""},
		{"ptr zero checked", func(v *validate.Validator) { validate.NumberPtr(v, "f", &zero).Min(1) }, validate.CodeTooSmall, ""},
		{"ptr absent fails present", func(v *validate.Validator) { validate.NumberPtr[int](v, "f", nil).Present() }, validate.CodeRequired, ""},
		{"func custom", func(v *validate.Validator) {
			validate.NumberPtr(v, "f", &seven).Func(func(n int) bool { return n%2 == 0 }, "odd", "must be even")
		}, "odd", ""},
	})
}

func TestTimeRules(t *testing.T) {
	ref := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	runRuleCases(t, []ruleCase{
		{"required refuses zero", func(v *validate.Validator) { v.Time("f", time.Time{}).Required() }, validate.CodeRequired, ""},
		{"before passes", func(v *validate.Validator) { v.Time("f", ref.Add(-1)).Before(ref) }, "", ""},
		{"before is strict", func(v *validate.Validator) { v.Time("f", ref).Before(ref) }, validate.CodeNotBefore, ""},
		{"after is strict", func(v *validate.Validator) { v.Time("f", ref).After(ref) }, validate.CodeNotAfter, ""},
		{"within passes both sides", func(v *validate.Validator) { v.Time("f", ref.Add(-time.Hour)).Within(ref, time.Hour) }, "", ""},
		{"within refuses", func(v *validate.Validator) { v.Time("f", ref.Add(61*time.Minute)).Within(ref, time.Hour) }, validate.CodeNotWithin, ""},
		{"after field", func(v *validate.Validator) { v.Time("f", ref).AfterField("start", ref.Add(time.Second)) }, validate.CodeNotAfter, ""},
		{"before field", func(v *validate.Validator) { v.Time("f", ref).BeforeField("end", ref) }, validate.CodeNotBefore, ""},
		{"ptr absent skips", func(v *validate.Validator) { v.TimePtr("f", nil).After(ref) }, "", ""},
		{"ptr absent fails present", func(v *validate.Validator) { v.TimePtr("f", nil).Present() }, validate.CodeRequired, ""},
		{"ptr zero is present", func(v *validate.Validator) { v.TimePtr("f", &time.Time{}).Present() }, "", ""},
	})
}

func TestCollectionRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{"nil slice is absent", func(v *validate.Validator) { validate.Slice[int](v, "f", nil).MinItems(1) }, "", ""},
		{"nil slice fails present", func(v *validate.Validator) { validate.Slice[int](v, "f", nil).Present() }, validate.CodeRequired, ""},
		{"empty slice is present", func(v *validate.Validator) { validate.Slice(v, "f", []int{}).Present() }, "", ""},
		{"empty slice fails required", func(v *validate.Validator) { validate.Slice(v, "f", []int{}).Required() }, validate.CodeRequired, ""},
		{"min items", func(v *validate.Validator) { validate.Slice(v, "f", []int{}).MinItems(1) }, validate.CodeTooFewItems, ""},
		{"max items", func(v *validate.Validator) { validate.Slice(v, "f", []int{1, 2}).MaxItems(1) }, validate.CodeTooManyItems, ""},
		{"each element path", func(v *validate.Validator) {
			validate.Slice(v, "f", []string{"ok", ""}).Each(func(v *validate.Validator, s string) { v.String("", s).Required() })
		}, validate.CodeRequired, "f[1]"},
		{"each skipped after failure", func(v *validate.Validator) {
			validate.Slice(v, "f", []string{"", ""}).MaxItems(1).Each(func(v *validate.Validator, s string) { v.String("", s).Required() })
		}, validate.CodeTooManyItems, ""},
		{"unique small", func(v *validate.Validator) { validate.Unique(validate.Slice(v, "f", []string{"a", "b", "a"})) }, validate.CodeDuplicate, "f[2]"},
		{"unique large uses a map", func(v *validate.Validator) {
			s := make([]int, 100)
			for i := range s {
				s[i] = i
			}
			s[99] = 50
			validate.Unique(validate.Slice(v, "f", s))
		}, validate.CodeDuplicate, "f[99]"},
		{"unique passes", func(v *validate.Validator) { validate.Unique(validate.Slice(v, "f", []int{1, 2, 3})) }, "", ""},
		{"unique by key", func(v *validate.Validator) {
			type line struct{ SKU string }
			validate.UniqueBy(validate.Slice(v, "f", []line{{"a"}, {"b"}, {"b"}}), func(l line) string { return l.SKU })
		}, validate.CodeDuplicate, "f[2]"},
		{"map max items", func(v *validate.Validator) { validate.Map(v, "f", map[string]int{"a": 1, "b": 2}).MaxItems(1) }, validate.CodeTooManyItems, ""},
		{"map keys", func(v *validate.Validator) {
			validate.Map(v, "f", map[string]int{"ok": 1, "Bad Key": 2}).Keys(func(v *validate.Validator, k string) { v.String("", k).Slug() })
		}, validate.CodeSlug, `f["Bad Key"]`},
		{"map values", func(v *validate.Validator) {
			validate.Map(v, "f", map[string]int{"a": 1, "b": -2}).Values(func(v *validate.Validator, n int) { validate.Number(v, "", n).NonNegative() })
		}, validate.CodeNegative, "f.b"},
		{"map int keys", func(v *validate.Validator) {
			validate.Map(v, "f", map[int]string{7: ""}).Entries(func(v *validate.Validator, k int, s string) { v.String("", s).Required() })
		}, validate.CodeRequired, "f[\"7\"]"},
		{"nil map fails required", func(v *validate.Validator) { validate.Map[string, int](v, "f", nil).Required() }, validate.CodeRequired, ""},
	})
}

func TestMapViolationsComeInKeyOrder(t *testing.T) {
	m := map[string]string{}
	for _, k := range []string{"d", "a", "c", "b", "e", "f", "g", "h"} {
		m[k] = ""
	}
	for range 5 { // map order is random; one lucky run proves nothing
		var v validate.Validator
		validate.Map(&v, "m", m).Values(func(v *validate.Validator, s string) { v.String("", s).Required() })
		var verrs *validate.Errors
		require.ErrorAs(t, v.Err(), &verrs)
		var got []string
		for _, x := range verrs.Violations {
			got = append(got, x.Path.String())
		}
		assert.Equal(t, []string{"m.a", "m.b", "m.c", "m.d", "m.e", "m.f", "m.g", "m.h"}, got)
	}
}

func TestCrossFieldRules(t *testing.T) {
	// Rules on the object itself report at the object's path: the root here.
	var v validate.Validator
	v.At("contact", func(v *validate.Validator) {
		v.ExactlyOne(validate.Has("email", false), validate.Has("phone", false))
	})
	var verrs *validate.Errors
	require.ErrorAs(t, v.Err(), &verrs)
	require.Len(t, verrs.Violations, 1)
	got := verrs.Violations[0]
	assert.Equal(t, validate.CodeExactlyOne, got.Code)
	assert.Equal(t, "contact", got.Path.String())
	fields, _ := got.Param("fields")
	assert.Equal(t, []string{"email", "phone"}, fields)
	assert.Equal(t, "exactly one of email, phone is required", got.Message(nil))

	for _, tc := range []struct {
		name string
		run  func(v *validate.Validator) bool
		want string
	}{
		{"exactly one refuses both", func(v *validate.Validator) bool {
			return v.ExactlyOne(validate.Has("a", true), validate.Has("b", true))
		}, validate.CodeExactlyOne},
		{"at least one refuses none", func(v *validate.Validator) bool {
			return v.AtLeastOne(validate.Has("a", false), validate.Has("b", false))
		}, validate.CodeAtLeastOne},
		{"mutually exclusive refuses both", func(v *validate.Validator) bool {
			return v.MutuallyExclusive(validate.Has("a", true), validate.Has("b", true))
		}, validate.CodeMutuallyExclusive},
		{"at least one passes both", func(v *validate.Validator) bool {
			return v.AtLeastOne(validate.Has("a", true), validate.Has("b", true))
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v validate.Validator
			ok := tc.run(&v)
			assert.Equal(t, tc.want == "", ok)
			if tc.want == "" {
				assert.NoError(t, v.Err())
				return
			}
			var verrs *validate.Errors
			require.ErrorAs(t, v.Err(), &verrs)
			assert.Equal(t, tc.want, verrs.Violations[0].Code)
			assert.Empty(t, verrs.Violations[0].Path, "reported at the object itself")
		})
	}
}

func TestReport_CustomRuleWithParams(t *testing.T) {
	var v validate.Validator
	v.Report("retry", "too_soon", "wait {seconds}s, not {unknown}", validate.Param{Name: "seconds", Value: 3})
	var verrs *validate.Errors
	require.ErrorAs(t, v.Err(), &verrs)
	assert.Equal(t, "wait 3s, not {unknown}", verrs.Violations[0].Message(nil), "unknown placeholders stay visible")
	assert.True(t, verrs.Has("retry", "too_soon"))
	assert.False(t, verrs.Has("retry", "other"))
}
