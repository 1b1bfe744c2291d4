package validate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

func TestPath_Rendering(t *testing.T) {
	cases := []struct {
		name    string
		path    validate.Path
		dotted  string
		pointer string
	}{
		{"root", validate.Path{}, "", ""},
		{"member", validate.Path{validate.Key("email")}, "email", "/email"},
		{"nested", validate.Path{validate.Key("items"), validate.Index(2), validate.Key("sku")}, "items[2].sku", "/items/2/sku"},
		{"root array", validate.Path{validate.Index(0), validate.Key("a")}, "[0].a", "/0/a"},
		{"quoted member", validate.Path{validate.Key("labels"), validate.Key("a.b c")}, `labels["a.b c"]`, "/labels/a.b c"},
		{"pointer escapes", validate.Path{validate.Key("a/b~c")}, `["a/b~c"]`, "/a~1b~0c"},
		{"empty member", validate.Path{validate.Key("")}, `[""]`, "/"},
		{"digit-leading member", validate.Path{validate.Key("7")}, `["7"]`, "/7"},
		{"identifier chars", validate.Path{validate.Key("_$x1")}, "_$x1", "/_$x1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.dotted, tc.path.String())
			assert.Equal(t, tc.pointer, tc.path.Pointer())
		})
	}
}

func TestParsePointer(t *testing.T) {
	cases := []struct {
		in   string
		want validate.Path
		err  bool
	}{
		{"", validate.Path{}, false},
		{"/items/2/sku", validate.Path{validate.Key("items"), validate.Index(2), validate.Key("sku")}, false},
		{"/a~1b~0c", validate.Path{validate.Key("a/b~c")}, false},
		{"/01", validate.Path{validate.Key("01")}, false},
		{"/", validate.Path{validate.Key("")}, false},
		{"items", nil, true},
		{"/a~2", nil, true},
		{"/a~", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := validate.ParsePointer(tc.in)
			if tc.err {
				require.ErrorIs(t, err, validate.ErrInvalidPointer)
				var pe *validate.PointerError
				require.ErrorAs(t, err, &pe)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in, got.Pointer(), "round trip")
		})
	}
}

func FuzzParsePointer(f *testing.F) {
	for _, s := range []string{"", "/", "/a/0/b", "/a~0~1", "/~", "x", "/00", "/9999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := validate.ParsePointer(s)
		if err != nil {
			return
		}
		again, err := validate.ParsePointer(p.Pointer())
		require.NoError(t, err)
		assert.Equal(t, p, again)
	})
}
