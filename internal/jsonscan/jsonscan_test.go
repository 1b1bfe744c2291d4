package jsonscan_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/jsonscan"
)

func TestString(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		end     int
		escaped bool
		kind    jsonscan.Kind
		offset  int
	}{
		{"plain", `"abc",`, 5, false, jsonscan.None, 0},
		{"empty", `""`, 2, false, jsonscan.None, 0},
		{"escapes", `"a\"\\\/\b\f\n\r\t"`, 19, true, jsonscan.None, 0},
		{"unicode escape", `"\u00e9"`, 8, true, jsonscan.None, 0},
		{"surrogate pair", `"\ud83d\ude00"`, 14, true, jsonscan.None, 0},
		{"multi-byte UTF-8", `"é€😀"`, 11, false, jsonscan.None, 0},
		{"unterminated", `"abc`, 0, false, jsonscan.EOFInString, 4},
		{"control character", "\"a\nb\"", 0, false, jsonscan.Control, 2},
		{"invalid UTF-8", "\"a\xffb\"", 0, false, jsonscan.InvalidUTF8, 2},
		{"encoded surrogate", "\"\xed\xa0\x80\"", 0, false, jsonscan.InvalidUTF8, 1},
		{"bad escape", `"\x41"`, 0, false, jsonscan.InvalidEscape, 2},
		{"escape at the end", `"\`, 0, false, jsonscan.EOFInEscape, 1},
		{"short unicode escape", `"\u00`, 0, false, jsonscan.EOFInUnicodeEscape, 3},
		{"bad hex", `"\u00g0"`, 0, false, jsonscan.InvalidHex, 3},
		{"lone high surrogate", `"\ud800"`, 0, false, jsonscan.InvalidSurrogate, 7},
		{"lone low surrogate", `"\udc00x"`, 0, false, jsonscan.InvalidSurrogate, 7},
		{"high then not low", `"\ud800\u0041"`, 0, false, jsonscan.InvalidSurrogate, 13},
		{"reversed pair", `"\udc00\ud800"`, 0, false, jsonscan.InvalidSurrogate, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			end, escaped, err := jsonscan.String([]byte(tc.in), 0)
			assert.Equal(t, tc.kind, err.Kind, err.Message())
			if tc.kind == jsonscan.None {
				assert.Equal(t, tc.end, end)
				assert.Equal(t, tc.escaped, escaped)
				return
			}
			assert.Equal(t, tc.offset, err.Offset)
			assert.NotEmpty(t, err.Message())
		})
	}
}

func TestNumber(t *testing.T) {
	valid := []string{"0", "-0", "1", "123", "1.5", "-0.0e-0", "1E+2", "1e2", "12.34e56"}
	for _, n := range valid {
		end, err := jsonscan.Number([]byte(n+","), 0)
		assert.Equal(t, jsonscan.None, err.Kind, n)
		assert.Equal(t, len(n), end, n)
		assert.True(t, jsonscan.IsNumber([]byte(n)), n)
	}
	invalid := []string{"-", "01", "1.", ".5", "1e", "1e+", "+1", "1x", "0x10", "1.2.3", "--1", "NaN", ""}
	for _, n := range invalid {
		_, err := jsonscan.Number([]byte(n), 0)
		assert.Equal(t, jsonscan.InvalidNumber, err.Kind, n)
		assert.False(t, jsonscan.IsNumber([]byte(n)), n)
	}
}

func TestLiteral(t *testing.T) {
	for _, w := range []string{"true", "false", "null"} {
		end, err := jsonscan.Literal([]byte(w+"]"), 0)
		assert.Equal(t, jsonscan.None, err.Kind, w)
		assert.Equal(t, len(w), end)
	}
	_, err := jsonscan.Literal([]byte("tru"), 0)
	assert.Equal(t, jsonscan.Error{Kind: jsonscan.InvalidLiteral, Offset: 0, Byte: 't'}, err)
	assert.Equal(t, "invalid literal, expected true", err.Message())
	_, err = jsonscan.Literal([]byte("x"), 0)
	assert.Equal(t, "invalid character 'x'", err.Message())
}

func TestNameAndNext(t *testing.T) {
	b := []byte(` "a\u0062" : 1 , "c":2 }`)
	name, escaped, v, err := jsonscan.Name(b, 0)
	require.Equal(t, jsonscan.None, err.Kind)
	assert.Equal(t, `a\u0062`, string(name))
	assert.True(t, escaped)
	assert.Equal(t, "ab", string(jsonscan.Unquote(nil, name)))
	assert.Equal(t, byte('1'), b[v])
	next, done, err := jsonscan.Next(b, v+1, '}')
	require.Equal(t, jsonscan.None, err.Kind)
	assert.False(t, done)
	_, _, v, err = jsonscan.Name(b, next)
	require.Equal(t, jsonscan.None, err.Kind)
	next, done, err = jsonscan.Next(b, v+1, '}')
	require.Equal(t, jsonscan.None, err.Kind)
	assert.True(t, done)
	assert.Equal(t, len(b), next)

	for in, kind := range map[string]jsonscan.Kind{
		`1`: jsonscan.ExpectedName, `"a" 1`: jsonscan.ExpectedColon, `"a`: jsonscan.EOFInString, ``: jsonscan.ExpectedName,
	} {
		_, _, _, err := jsonscan.Name([]byte(in), 0)
		assert.Equal(t, kind, err.Kind, in)
	}
	_, _, err = jsonscan.Next([]byte(" x"), 0, ']')
	assert.Equal(t, "expected ',' or ']' after an element, found 'x'", err.Message())
	_, _, err = jsonscan.Next([]byte(" "), 0, '}')
	assert.Equal(t, jsonscan.EOFInObject, err.Kind)
}

func TestSkipValue(t *testing.T) {
	valid := []string{`{}`, `[]`, ` {"a":[1,{"b":null}],"c":"d"}`, `"x"`, `-1.5e3`, `true`, `[[[]]]`}
	for _, v := range valid {
		end, err := jsonscan.SkipValue([]byte(v+" ,"), 0, 3)
		assert.Equal(t, jsonscan.None, err.Kind, "%s: %s", v, err.Message())
		assert.Equal(t, len(v), end, v)
	}
	invalid := map[string]jsonscan.Kind{
		`{"a":1,}`: jsonscan.ExpectedName, `[1,]`: jsonscan.InvalidChar, `[1 2]`: jsonscan.ArraySeparator,
		`{"a" 1}`: jsonscan.ExpectedColon, `{"a":1`: jsonscan.EOFInObject, `[`: jsonscan.EOF,
		`[[[[]]]]`: jsonscan.TooDeep, `[[[1]]]`: jsonscan.None, ``: jsonscan.EOF, `nul`: jsonscan.InvalidLiteral,
		`'a'`: jsonscan.InvalidChar, `{"a":01}`: jsonscan.InvalidNumber,
	}
	for in, kind := range invalid {
		_, err := jsonscan.SkipValue([]byte(in), 0, 3)
		assert.Equal(t, kind, err.Kind, "%s: %s", in, err.Message())
	}
}

func TestUnquote_InPlaceAllocatesNothing(t *testing.T) {
	src := []byte(`k\u003c\u0026\u003e1\/\ud83d\ude00\n\"`)
	buf := make([]byte, len(src))
	var got []byte
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf, src)
		got = jsonscan.Unquote(buf[:0], buf)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, "k<&>1/\U0001F600\n\"", string(got))
}

func TestScanning_AllocatesNothing(t *testing.T) {
	doc := []byte(`{"iss":"https://issuer.example","sub":"user-42","aud":["a","b"],"exp":1700000000,"n":null,"é":"\u00e9","x":[true,false,-1.5e3]}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := jsonscan.SkipValue(doc, 0, 8); err.Kind != jsonscan.None {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzSkipValue checks the lexer against encoding/json: whatever it
// accepts, encoding/json accepts; whatever encoding/json accepts, it
// accepts too, unless the document holds text that encoding/json would
// have to repair (invalid UTF-8, a lone surrogate escape) or nests deeper
// than the limit.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `"x"`, `1`, `{"a":[1,{"b":null}],"c":"d"}`, `{"a":1,}`, `[1,]`, `{"a" 1}`,
		`"\ud800"`, "\"\xff\"", `"\ud83d\ude00"`, `01`, `1x`, `-0.0e-0`, `[[[[[[[[[[]]]]]]]]]]`, ` "a" `, `{"a":"\u00e9"}`,
	} {
		f.Add([]byte(s))
	}
	const maxDepth = 8
	f.Fuzz(func(t *testing.T, b []byte) {
		end, err := jsonscan.SkipValue(b, 0, maxDepth)
		ok := err.Kind == jsonscan.None && jsonscan.SkipSpace(b, end) == len(b)
		if err.Kind != jsonscan.None {
			require.LessOrEqual(t, err.Offset, len(b), "offset beyond the document")
			require.NotEmpty(t, err.Message())
		}
		valid := json.Valid(b)
		if ok {
			require.True(t, valid, "accepted what encoding/json refuses: %q", b)
			return
		}
		if !valid || err.Kind == jsonscan.TooDeep {
			return
		}
		if err.Kind == jsonscan.None {
			t.Fatalf("stopped at %d in a valid document %q", end, b)
		}
		repaired := err.Kind == jsonscan.InvalidUTF8 || err.Kind == jsonscan.InvalidSurrogate
		require.True(t, repaired, "refused valid JSON %q: %v", b, err)
		if err.Kind == jsonscan.InvalidUTF8 {
			require.False(t, utf8.Valid(b), "invalid UTF-8 in %q", b)
		}
	})
}

// FuzzUnquote compares the string decoder with encoding/json: wherever
// String accepts, Unquote (in place and appending) decodes what
// encoding/json decodes; where String refuses a string encoding/json
// accepts, encoding/json had to repair it (U+FFFD).
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{
		`"plain"`, `"k\u003c\u0026\u003e1"`, `"keys\/2024"`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00\ud800"`,
		`"\ud800\u0041"`, `"\"\\\/\b\f\n\r\t"`, "\"\xff\"", `"\u00e9\u0000"`, `"é"`, `"\uDBFF\uDFFF"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		b := []byte(in)
		if len(b) == 0 || b[0] != '"' {
			return
		}
		var want string
		jsonErr := json.Unmarshal(b, &want)
		end, _, err := jsonscan.String(b, 0)
		if err.Kind != jsonscan.None {
			if jsonErr == nil && !strings.ContainsRune(want, utf8.RuneError) {
				t.Fatalf("%q: refused (%v), encoding/json read %q without repair", in, err, want)
			}
			// Unchecked contents must not panic either.
			_ = jsonscan.Unquote(nil, b[1:])
			return
		}
		if jsonscan.SkipSpace(b, end) != len(b) {
			require.Error(t, jsonErr, "%q: data after the string", in)
			return
		}
		require.NoError(t, jsonErr, "accepted what encoding/json refuses: %q", in)
		contents := b[1 : end-1]
		appended := jsonscan.Unquote([]byte("prefix:"), contents)
		require.Equal(t, "prefix:"+want, string(appended))
		inPlace := jsonscan.Unquote(contents[:0], contents)
		require.Equal(t, want, string(inPlace))
	})
}

func BenchmarkSkipValue(b *testing.B) {
	doc := []byte(`{"iss":"https://issuer.example","sub":"user-42","aud":["a","b"],"exp":1700000000,"iat":1699999000,"jti":"c2f0e8b7a1d94e5b","roles":["admin","customer"],"name":"Ad\u00e9le"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := jsonscan.SkipValue(doc, 0, 32); err.Kind != jsonscan.None {
			b.Fatal(err)
		}
	}
}
