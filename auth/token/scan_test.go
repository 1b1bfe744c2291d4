package token

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/internal/jsonscan"
)

func TestUnquoteInPlace_AllocatesNothing(t *testing.T) {
	src := []byte(`"k\u003c\u0026\u003e1\/\ud83d\ude00\n"`)
	buf := make([]byte, len(src))
	var got []byte
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf, src)
		got, _ = unquoteInPlace(buf)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, "k<&>1/\U0001F600\n", string(got))
}

// FuzzUnquoteInPlace compares the header string decoder with
// encoding/json: wherever it accepts, both agree; where it refuses a string
// encoding/json accepts, encoding/json had to repair it (U+FFFD).
func FuzzUnquoteInPlace(f *testing.F) {
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
		if end, _, err := jsonscan.String(b, 0); err.Kind != jsonscan.None || end != len(b) {
			return
		}
		var want string
		jsonErr := json.Unmarshal(b, &want)
		got, ok := unquoteInPlace(b)
		switch {
		case ok && jsonErr != nil:
			t.Fatalf("%q: accepted %q, encoding/json refused: %v", in, got, jsonErr)
		case ok && string(got) != want:
			t.Fatalf("%q: decoded %q, encoding/json %q", in, got, want)
		case !ok && jsonErr == nil && !strings.ContainsRune(want, '\uFFFD'):
			t.Fatalf("%q: refused, encoding/json read %q without repair", in, want)
		}
	})
}
