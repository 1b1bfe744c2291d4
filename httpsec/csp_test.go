package httpsec_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

func contextWith(r *http.Request, key, value any) context.Context {
	return context.WithValue(r.Context(), key, value)
}

func TestCSPBuilder(t *testing.T) {
	csp, err := httpsec.NewCSP().
		Set("default-src", httpsec.Self).
		Set("img-src", httpsec.Self, "https://cdn.example.com").
		Set("upgrade-insecure-requests").
		Set("IMG-SRC", httpsec.Self, "data:").
		Build()
	require.NoError(t, err)
	assert.Equal(t, "default-src 'self'; img-src 'self' data:; upgrade-insecure-requests", csp.String())
	assert.False(t, csp.HasNonce())
	assert.False(t, csp.IsZero())
	assert.Equal(t, httpsec.APICSP, httpsec.CSP{}.String())
}

func TestCSP_Errors(t *testing.T) {
	cases := map[string]func() (httpsec.CSP, error){
		"empty":            func() (httpsec.CSP, error) { return httpsec.NewCSP().Build() },
		"unquoted keyword": func() (httpsec.CSP, error) { return httpsec.NewCSP().Set("default-src", "self").Build() },
		"fixed nonce":      func() (httpsec.CSP, error) { return httpsec.NewCSP().Set("script-src", "'nonce-abc'").Build() },
		"none with others": func() (httpsec.CSP, error) {
			return httpsec.NewCSP().Set("script-src", httpsec.None, httpsec.Self).Build()
		},
		"semicolon injected": func() (httpsec.CSP, error) { return httpsec.NewCSP().Set("script-src", "a;b").Build() },
		"line break":         func() (httpsec.CSP, error) { return httpsec.NewCSP().Set("script-src", "a\nb").Build() },
		"bad directive":      func() (httpsec.CSP, error) { return httpsec.NewCSP().Set("script src").Build() },
		"empty directive":    func() (httpsec.CSP, error) { return httpsec.NewCSP().Set("").Build() },
		"error is kept":      func() (httpsec.CSP, error) { return httpsec.NewCSP().Set("x", "self").Set("y", httpsec.Self).Build() },
		"parse duplicate":    func() (httpsec.CSP, error) { return httpsec.ParseCSP("img-src 'self'; IMG-SRC data:") },
		"parse bad source":   func() (httpsec.CSP, error) { return httpsec.ParseCSP("img-src none") },
		"parse empty":        func() (httpsec.CSP, error) { return httpsec.ParseCSP(" ; ;") },
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			csp, err := build()
			require.ErrorIs(t, err, httpsec.ErrInvalidCSP)
			assert.ErrorIs(t, err, httpsec.ErrInvalidConfig)
			assert.True(t, csp.IsZero())
		})
	}
}

func TestParseCSP(t *testing.T) {
	csp, err := httpsec.ParseCSP(" default-src 'self' ;script-src 'nonce-{nonce}'  'strict-dynamic';; ")
	require.NoError(t, err)
	assert.Equal(t, "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'", csp.String())
	assert.True(t, csp.HasNonce())
}
