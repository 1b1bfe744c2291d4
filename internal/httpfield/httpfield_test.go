package httpfield_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/internal/httpfield"
)

func TestTrimOWS_RemovesOnlySpacesAndTabs(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"nothing to trim", "gzip", "gzip"},
		{"spaces both sides", "  gzip  ", "gzip"},
		{"tabs both sides", "\tgzip\t", "gzip"},
		{"inner whitespace kept", " a b ", "a b"},
		{"only whitespace", " \t ", ""},
		{"line feed is not OWS", "\ngzip\n", "\ngzip\n"},
		{"vertical tab is not OWS", "\vgzip", "\vgzip"},
		{"no-break space is not OWS", "\u00a0gzip", "\u00a0gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, httpfield.TrimOWS(tt.in))
		})
	}
}
