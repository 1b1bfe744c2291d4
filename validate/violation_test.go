package validate_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

func TestRender(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	params := []validate.Param{
		{Name: "max", Value: 50}, {Name: "name", Value: "x"}, {Name: "at", Value: at},
		{Name: "allowed", Value: []string{"a", "b"}}, {Name: "f", Value: 1.5}, {Name: "d", Value: time.Minute},
	}
	cases := []struct {
		tmpl string
		want string
	}{
		{"no placeholders", "no placeholders"},
		{"at most {max}", "at most 50"},
		{"{name}{max}", "x50"},
		{"at {at}", "at 2026-01-02T03:04:05Z"},
		{"one of {allowed}", "one of a, b"},
		{"{f} and {d}", "1.5 and 1m0s"},
		{"unknown {nope} stays", "unknown {nope} stays"},
		{"unclosed {max", "unclosed {max"},
		{"braces } { alone", "braces } { alone"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.tmpl, func(t *testing.T) {
			assert.Equal(t, tc.want, validate.Render(tc.tmpl, params))
		})
	}
}

func TestTemplates_FallBackToEnglish(t *testing.T) {
	tr := validate.Templates{validate.CodeTooLong: "max {max}"}
	long := validate.Violation{Code: validate.CodeTooLong, Template: "must be at most {max} characters long",
		Params: []validate.Param{{Name: "max", Value: 3}}}
	other := validate.Violation{Code: validate.CodeEmail, Template: "must be a valid email address"}
	assert.Equal(t, "max 3", long.Message(tr))
	assert.Equal(t, "must be at most 3 characters long", long.Message(nil))
	assert.Equal(t, "must be a valid email address", other.Message(tr))
	v, ok := long.Param("max")
	assert.True(t, ok)
	assert.Equal(t, 3, v)
	_, ok = long.Param("min")
	assert.False(t, ok)
}

func TestErrors_Error(t *testing.T) {
	one := &validate.Errors{Violations: []validate.Violation{{Path: validate.Path{validate.Key("a")}, Code: "x", Template: "is bad"}}}
	assert.Equal(t, "validate: a: is bad", one.Error())
	root := &validate.Errors{Violations: []validate.Violation{{Code: "x", Template: "is bad"}}}
	assert.Equal(t, "validate: is bad", root.Error())
	two := &validate.Errors{Violations: append(one.Violations, root.Violations...), Truncated: true}
	assert.Equal(t, "validate: 2 violations (truncated)\n\ta: is bad\n\tis bad", two.Error())
	var target *validate.Errors
	assert.True(t, errors.As(error(two), &target))
}

func TestValidator_ResultDoesNotShareMemoryWithReusedValidator(t *testing.T) {
	var v validate.Validator
	v.At("first", func(v *validate.Validator) { v.String("name", "").Required() })
	first := v.Err()
	require.Error(t, first)
	v.Reset()
	assert.True(t, v.Valid())
	assert.NoError(t, v.Err())
	v.At("second", func(v *validate.Validator) { validate.Number(v, "n", 5).Max(1) })
	second := v.Err()
	assert.Equal(t, "validate: first.name: is required", first.Error())
	assert.Equal(t, "validate: second.n: must be at most 1", second.Error())
}

func TestValidator_ZeroValueLimitsViolations(t *testing.T) {
	var v validate.Validator
	for range validate.DefaultMaxViolations + 10 {
		v.Report("x", "bad", "is bad")
	}
	var verrs *validate.Errors
	require.ErrorAs(t, v.Err(), &verrs)
	assert.Len(t, verrs.Violations, validate.DefaultMaxViolations)
	assert.True(t, verrs.Truncated)
}

func TestTimeWithin_IgnoresSignOfWindow(t *testing.T) {
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var v validate.Validator
	v.Time("t", ref.Add(time.Minute)).Within(ref, -time.Hour)
	assert.NoError(t, v.Err())
}
