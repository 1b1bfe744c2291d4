package validate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

// FuzzDecodeJSON checks, for any body, that DecodeJSON never panics,
// answers with a known failure, keeps its allocations linear in the body,
// and never accepts what encoding/json refuses, nor decodes differently.
func FuzzDecodeJSON(f *testing.F) {
	seeds := []string{
		`{}`, `[]`, `null`, `"x"`, `1`, `{"email":"a@example.com","age":3}`,
		`{"email":"a","EMAIL":"b"}`, `{"email":"a","\u0065mail":"b"}`,
		`{"items":[{"sku":"A","qty":1},{"sku":"B","qty":"2"}]}`,
		`{"labels":{"a":"1","a":"2"}}`, `{"age":1e2}`, `{"age":128}`, `{"when":"2026-01-02T03:04:05Z"}`,
		`{"quoted":"7"}`, `{"blob":"aGk="}`, `{"raw":{"x":[1,2,{"y":null}]}}`, `{"pair":[1,2,3]}`,
		`{"next":{"next":{"next":{}}}}`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"email":"\ud800"}`, "{\"email\":\"\xff\"}", `{"a":1} x`, `{"a":1,}`, `{"price":-0.0e-0}`,
		`{"by_id":{"1":"x","01":"y"}}`, `{"num":123456789012345678901234567890}`,
		`{"` + strings.Repeat("é", 100) + `":1,"labels":{"` + strings.Repeat("~/", 200) + `":2}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	c, err := validate.New(validate.Config{MaxBodyBytes: 1 << 16, MaxViolations: 20})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		var got order
		var decodeErr error
		allocs := testing.AllocsPerRun(1, func() {
			got = order{}
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(data)))
			r.Header.Set("Content-Type", "application/json")
			decodeErr = c.DecodeJSON(r, &got)
		})
		assert.LessOrEqual(t, allocs, float64(200+2*len(data)), "allocations must stay linear in the body")

		var want order
		stdErr := json.Unmarshal(data, &want)
		if decodeErr == nil {
			require.NoError(t, stdErr, "accepted a body encoding/json refuses")
			require.Equal(t, want, got, "decoded differently from encoding/json")
			return
		}
		var de *validate.DecodeError
		require.ErrorAs(t, decodeErr, &de, "unexpected error kind: %v", decodeErr)
		known := []error{validate.ErrMalformedJSON, validate.ErrTooDeep, validate.ErrSchemaMismatch, validate.ErrBodyTooLarge}
		matched := false
		for _, k := range known {
			matched = matched || errors.Is(decodeErr, k)
		}
		require.True(t, matched, "unknown failure: %v", decodeErr)
		if errors.Is(decodeErr, validate.ErrMalformedJSON) && json.Valid(data) {
			// encoding/json calls it valid only when the refusal is one
			// of ours: bad UTF-8 or a lone surrogate escape.
			require.True(t, !utf8.Valid(data) || strings.Contains(string(data), `\u`) || strings.Contains(string(data), `\U`),
				"refused valid JSON: %q: %v", data, decodeErr)
		}
		if errors.Is(decodeErr, validate.ErrSchemaMismatch) {
			require.NotEmpty(t, de.Violations)
		}
		p := validate.Problem(decodeErr)
		require.NotNil(t, p)
		require.Contains(t, []int{400, 413}, p.Status)
		// Whatever the body, the problem echoes only excerpts of it.
		require.LessOrEqual(t, len(p.Errors), 20)
		for _, e := range p.Errors {
			require.LessOrEqual(t, len(e.Pointer), 256+len("…"), e.Pointer)
			require.LessOrEqual(t, len(e.Detail), 256+len("…"), e.Detail)
		}
		require.LessOrEqual(t, len(p.Detail), 512, p.Detail)
	})
}
