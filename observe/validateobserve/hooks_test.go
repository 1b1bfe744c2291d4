package validateobserve_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/validateobserve"
	"github.com/bedrock-go/bedrock/validate"
)

type signup struct {
	Email string `json:"email"`
	Age   int    `json:"age"`
}

func (s *signup) Validate(v *validate.Validator) {
	v.String("email", s.Email).Required()
	if s.Age < 18 {
		v.Report("age", "min", "must be at least 18")
	}
}

func TestHooks_CountInvalidValuesAndDecodeErrorsByReason(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "validateobserve")
	hooks, err := validateobserve.Hooks(m.MP)
	require.NoError(t, err)
	c, err := validate.New(validate.Config{MaxBodyBytes: 64, Hooks: hooks})
	require.NoError(t, err)
	decode := func(contentType, body string) error {
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var s signup
		return c.DecodeJSON(r, &s)
	}
	require.Error(t, decode("application/json", `{"email":`))
	require.Error(t, decode("application/json", `{"email":"a@b.c","age":"old"}`))
	require.Error(t, decode("application/json", `{"email":"`+strings.Repeat("a", 100)+`"}`))
	require.Error(t, decode("text/plain", `{}`))
	require.Error(t, decode("application/json", `{"email":"","age":3}`))
	require.NoError(t, decode("application/json", `{"email":"a@b.c","age":30}`))

	assert.Equal(t, map[string]int64{
		"bedrock.validate.reason=malformed_json":         1,
		"bedrock.validate.reason=schema_mismatch":        1,
		"bedrock.validate.reason=body_too_large":         1,
		"bedrock.validate.reason=unsupported_media_type": 1,
	}, m.Counter(t, "bedrock.validate.decode_errors", "{request}"))
	assert.Equal(t, map[string]int64{"": 1}, m.Counter(t, "bedrock.validate.invalid", "{value}"))
}

// BenchmarkHooks_DecodeError is the hook of every body refused by the
// decoder: a path an attacker drives, so it must stay cheap.
func BenchmarkHooks_DecodeError(b *testing.B) {
	hooks, err := validateobserve.Hooks(otelhooktest.NewRecorder(b, "validateobserve").MP)
	require.NoError(b, err)
	e := &validate.DecodeError{Err: validate.ErrMalformedJSON, Status: http.StatusBadRequest, Detail: "unexpected end", Offset: 9}
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnDecodeError(e)
	}
}
