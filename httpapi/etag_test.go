package httpapi_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
)

// TestETag_ComparisonTableOfRFC9110 is the table of RFC 9110 §8.8.3.2.
func TestETag_ComparisonTableOfRFC9110(t *testing.T) {
	for _, tc := range []struct {
		a, b         string
		strong, weak bool
	}{
		{`W/"1"`, `W/"1"`, false, true},
		{`W/"1"`, `W/"2"`, false, false},
		{`W/"1"`, `"1"`, false, true},
		{`"1"`, `"1"`, true, true},
	} {
		t.Run(tc.a+" vs "+tc.b, func(t *testing.T) {
			a, err := httpapi.ParseETag(tc.a)
			require.NoError(t, err)
			b, err := httpapi.ParseETag(tc.b)
			require.NoError(t, err)
			assert.Equal(t, tc.strong, a.StrongMatch(b), "strong")
			assert.Equal(t, tc.weak, a.WeakMatch(b), "weak")
			assert.Equal(t, tc.strong, b.StrongMatch(a), "strong comparison is symmetric")
			assert.Equal(t, tc.weak, b.WeakMatch(a), "weak comparison is symmetric")
		})
	}
}

func TestParseETag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want httpapi.ETag
		ok   bool
	}{
		// RFC 9110 §8.8.3's examples.
		{`"xyzzy"`, httpapi.ETag{Opaque: "xyzzy"}, true},
		{`W/"xyzzy"`, httpapi.ETag{Opaque: "xyzzy", Weak: true}, true},
		{`""`, httpapi.ETag{}, true},
		{"\"caf\xc3\xa9\"", httpapi.ETag{Opaque: "caf\xc3\xa9"}, true}, // obs-text
		{`"!#~"`, httpapi.ETag{Opaque: "!#~"}, true},
		{`xyzzy`, httpapi.ETag{}, false},
		{`w/"xyzzy"`, httpapi.ETag{}, false}, // W/ is case-sensitive
		{`W/ "xyzzy"`, httpapi.ETag{}, false},
		{`"xyz`, httpapi.ETag{}, false},
		{`"x y"`, httpapi.ETag{}, false},
		{"\"x\x7f\"", httpapi.ETag{}, false},
		{`"x"y`, httpapi.ETag{}, false},
		{` "x"`, httpapi.ETag{}, false},
		{`*`, httpapi.ETag{}, false},
		{``, httpapi.ETag{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := httpapi.ParseETag(tc.in)
			if !tc.ok {
				assert.ErrorIs(t, err, httpapi.ErrInvalidETag)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in, got.String(), "String writes back what was parsed")
		})
	}
}

func TestETagFromVersion_RoundTrips(t *testing.T) {
	for _, v := range []int64{0, 1, 42, math.MaxInt64} {
		tag := httpapi.ETagFromVersion(v)
		got, ok := httpapi.VersionFromETag(tag)
		assert.True(t, ok, tag)
		assert.Equal(t, v, got)
	}
	assert.Equal(t, `"v42"`, httpapi.ETagFromVersion(42))
	assert.Equal(t, "", httpapi.ETagFromVersion(-1), "a negative version has no tag")
	for _, tag := range []string{`W/"v1"`, `"v01"`, `"v+1"`, `"v-1"`, `"v"`, `"x1"`, `"v9223372036854775808"`, `v1`, ``} {
		_, ok := httpapi.VersionFromETag(tag)
		assert.False(t, ok, tag)
	}
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = httpapi.ETagFromVersion(123456) }), 1.0, "only the string itself")
}

func TestVersionFromIfMatch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		field   string
		want    int64
		any     bool
		wantErr error
	}{
		{"our tag", `"v7"`, 7, false, nil},
		{"zero", `"v0"`, 0, false, nil},
		{"max", `"v9223372036854775807"`, math.MaxInt64, false, nil},
		{"surrounding whitespace", " \t\"v7\" ", 7, false, nil},
		{"star", "*", 0, true, nil},
		{"star with spaces", "  * ", 0, true, nil},
		{"list with foreign and weak tags", `"abc", "v7", W/"v8"`, 7, false, nil},
		{"same version twice", `"v7","v7"`, 7, false, nil},
		{"empty list elements", `, ,"v7",,`, 7, false, nil},
		{"empty", "", 0, false, httpapi.ErrPreconditionRequired},
		{"blank", "   ", 0, false, httpapi.ErrPreconditionRequired},
		{"weak only", `W/"v7"`, 0, false, httpapi.ErrPreconditionFailed},
		{"foreign only (RFC 9110 example)", `"xyzzy", "r2d2xxxx", "c3piozzzz"`, 0, false, httpapi.ErrPreconditionFailed},
		{"two versions", `"v7", "v8"`, 0, false, httpapi.ErrPreconditionFailed},
		{"overflow", `"v9223372036854775808"`, 0, false, httpapi.ErrPreconditionFailed},
		{"leading zero", `"v07"`, 0, false, httpapi.ErrPreconditionFailed},
		{"unquoted", `v7`, 0, false, httpapi.ErrInvalidPrecondition},
		{"unterminated", `"v7`, 0, false, httpapi.ErrInvalidPrecondition},
		{"missing comma", `"v7" "v8"`, 0, false, httpapi.ErrInvalidPrecondition},
		{"space inside", `"v 7"`, 0, false, httpapi.ErrInvalidPrecondition},
		{"star in a list", `*, "v7"`, 0, false, httpapi.ErrInvalidPrecondition},
		{"lowercase weak", `w/"v7"`, 0, false, httpapi.ErrInvalidPrecondition},
		{"malformed after two versions is malformed, not failed", `"v10","v0",0`, 0, false, httpapi.ErrInvalidPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, any, err := httpapi.VersionFromIfMatch(tc.field)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, v)
			assert.Equal(t, tc.any, any)
		})
	}
}
