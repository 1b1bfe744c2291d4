package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/auth"
)

func TestPrincipalContext(t *testing.T) {
	cases := []struct {
		name    string
		ctx     context.Context
		wantOK  bool
		subject string
	}{
		{"absent", context.Background(), false, ""},
		{"present", auth.WithPrincipal(context.Background(), auth.Principal{Subject: "u1"}), true, "u1"},
		{"anonymous stored", auth.WithPrincipal(context.Background(), auth.Principal{}), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := auth.PrincipalFrom(tc.ctx)
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.subject, p.Subject)
			assert.Equal(t, tc.subject, auth.SubjectFrom(tc.ctx))
		})
	}
}

func TestPrincipal_RolesAndScopes(t *testing.T) {
	p := auth.Principal{Subject: "u", Roles: []string{"admin"}, Scopes: []string{"orders:write"}}
	assert.True(t, p.HasRole("admin"))
	assert.False(t, p.HasRole("root"))
	assert.True(t, p.HasScope("orders:write"))
	assert.False(t, p.HasScope("orders:read"))
	assert.False(t, p.IsAnonymous())
	assert.True(t, auth.Principal{}.IsAnonymous())
}

func TestErrorsAreDistinct(t *testing.T) {
	wrapped := fmt.Errorf("apikey: revoked: %w", auth.ErrInvalidCredential)
	assert.True(t, errors.Is(wrapped, auth.ErrInvalidCredential))
	assert.False(t, errors.Is(wrapped, auth.ErrForbidden))
}

func ExampleWithPrincipal() {
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "user_42", Roles: []string{"admin"}})
	if p, ok := auth.PrincipalFrom(ctx); ok {
		fmt.Println(p.Subject, p.HasRole("admin"))
	}
	// Output: user_42 true
}

func BenchmarkPrincipalFrom(b *testing.B) {
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "u"})
	b.ReportAllocs()
	for b.Loop() {
		_, _ = auth.PrincipalFrom(ctx)
	}
}
