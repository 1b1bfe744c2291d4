package httpsec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Canned answers must be exactly what problem.Write would send.
func TestCannedProblem_MatchesProblemWrite(t *testing.T) {
	cases := []struct {
		name   string
		status int
		detail string
		ext    map[string]any
	}{
		{"forbidden", http.StatusForbidden, "Requests from this origin are not allowed.", nil},
		{"too large with extension", http.StatusRequestEntityTooLarge, "The request body is too large.", map[string]any{"max_bytes": int64(1 << 20)}},
		{"misdirected", http.StatusMisdirectedRequest, "This server does not serve the requested host.", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := httptest.NewRecorder()
			problem.Write(want, problem.Details{Status: tc.status, Detail: tc.detail, Extensions: tc.ext})
			got := httptest.NewRecorder()
			canned := newCannedProblem(tc.status, tc.detail, tc.ext, false)
			canned.write(got)
			assert.Equal(t, want.Code, got.Code)
			assert.Equal(t, want.Body.String(), got.Body.String())
			assert.Equal(t, want.Header(), got.Header())
		})
	}
}

func TestCannedProblem_KeepsCacheControlAndCanClose(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Cache-Control", "private")
	c := newCannedProblem(http.StatusRequestEntityTooLarge, "The request body is too large.", nil, true)
	c.write(w)
	assert.Equal(t, "private", w.Header().Get("Cache-Control"))
	assert.Equal(t, "close", w.Header().Get("Connection"))
}

func TestIsTchar(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		want := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		assert.Equal(t, want, isTchar(b), "byte %q", b)
	}
}
