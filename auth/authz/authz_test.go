package authz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/authz"
)

func shopPolicy(t testing.TB) *authz.Policy {
	t.Helper()
	p, err := authz.NewPolicy(authz.PolicyConfig{
		Roles: []authz.Role{
			{Name: "customer", Permissions: []string{"products:read", "orders:create", "orders:read"}},
			{Name: "staff", Permissions: []string{"products:write", "orders:ship"}, Inherits: []string{"customer"}},
			{Name: "admin", Permissions: []string{"users:*"}, Inherits: []string{"staff"}},
			{Name: "root", Permissions: []string{"*"}},
		},
		Rules: []authz.Rule{
			{Name: "suspended users do nothing", Effect: authz.Deny, Actions: []string{"*"},
				When: func(r *authz.Request) bool { return r.Subject.Attributes["suspended"] == true }},
			{Name: "owners read their own orders", Effect: authz.Allow, Actions: []string{"orders:read_any"},
				When: func(r *authz.Request) bool { return r.Resource.Owner == r.Subject.Subject }},
			{Name: "anyone browses the catalogue", Effect: authz.Allow, Actions: []string{"catalogue:browse"}},
		},
	})
	require.NoError(t, err)
	return p
}

func principal(sub string, roles ...string) auth.Principal {
	return auth.Principal{Subject: sub, Roles: roles}
}

func TestDecide(t *testing.T) {
	a := authz.New(shopPolicy(t))
	a.Assign("acme", "bob", "staff")
	cases := []struct {
		name    string
		req     authz.Request
		allowed bool
		reason  string
	}{
		{"direct permission", authz.Request{Subject: principal("u", "customer"), Action: "orders:create"}, true, "role customer"},
		{"inherited permission", authz.Request{Subject: principal("u", "admin"), Action: "products:read"}, true, "role admin"},
		{"prefix grant", authz.Request{Subject: principal("u", "admin"), Action: "users:delete"}, true, "role admin"},
		{"prefix grant is a prefix of a segment", authz.Request{Subject: principal("u", "admin"), Action: "usersx:delete"}, false, authz.ReasonDefaultDeny},
		{"wildcard", authz.Request{Subject: principal("u", "root"), Action: "anything:at_all"}, true, "role root"},
		{"missing permission", authz.Request{Subject: principal("u", "customer"), Action: "products:write"}, false, authz.ReasonDefaultDeny},
		{"undefined role grants nothing", authz.Request{Subject: principal("u", "wizard"), Action: "products:read"}, false, authz.ReasonDefaultDeny},
		{"deny overrides a role", authz.Request{Subject: auth.Principal{Subject: "u", Roles: []string{"root"}, Attributes: map[string]any{"suspended": true}}, Action: "products:read"}, false, "rule deny: suspended users do nothing"},
		{"allow rule on attributes", authz.Request{Subject: principal("u"), Action: "orders:read_any", Resource: authz.Resource{Owner: "u"}}, true, "rule allow: owners read their own orders"},
		{"allow rule not matching", authz.Request{Subject: principal("u"), Action: "orders:read_any", Resource: authz.Resource{Owner: "v"}}, false, authz.ReasonDefaultDeny},
		{"anonymous denied", authz.Request{Action: "orders:create"}, false, authz.ReasonAnonymous},
		{"anonymous allowed by a rule", authz.Request{Action: "catalogue:browse"}, true, "rule allow: anyone browses the catalogue"},
		{"assigned role in its tenant", authz.Request{Subject: auth.Principal{Subject: "bob", Tenant: "acme"}, Action: "orders:ship"}, true, "role staff"},
		{"assigned role not in another tenant", authz.Request{Subject: auth.Principal{Subject: "bob", Tenant: "globex"}, Action: "orders:ship"}, false, authz.ReasonDefaultDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := a.Decide(&tc.req)
			assert.Equal(t, tc.allowed, d.Allowed)
			assert.Equal(t, tc.reason, d.Reason)
		})
	}
	a.Unassign("acme", "bob", "staff")
	d := a.Decide(&authz.Request{Subject: auth.Principal{Subject: "bob", Tenant: "acme"}, Action: "orders:ship"})
	assert.False(t, d.Allowed)
}

func TestNewPolicy_RejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		cfg  authz.PolicyConfig
		want error
	}{
		"cycle":          {authz.PolicyConfig{Roles: []authz.Role{{Name: "a", Inherits: []string{"b"}}, {Name: "b", Inherits: []string{"c"}}, {Name: "c", Inherits: []string{"a"}}}}, authz.ErrCycle},
		"self":           {authz.PolicyConfig{Roles: []authz.Role{{Name: "a", Inherits: []string{"a"}}}}, authz.ErrCycle},
		"unknown parent": {authz.PolicyConfig{Roles: []authz.Role{{Name: "a", Inherits: []string{"ghost"}}}}, authz.ErrUnknownRole},
		"duplicate":      {authz.PolicyConfig{Roles: []authz.Role{{Name: "a"}, {Name: "a"}}}, authz.ErrInvalidConfig},
		"empty name":     {authz.PolicyConfig{Roles: []authz.Role{{Name: ""}}}, authz.ErrInvalidConfig},
		"inner star":     {authz.PolicyConfig{Roles: []authz.Role{{Name: "a", Permissions: []string{"pro*ducts"}}}}, authz.ErrInvalidConfig},
		"empty perm":     {authz.PolicyConfig{Roles: []authz.Role{{Name: "a", Permissions: []string{""}}}}, authz.ErrInvalidConfig},
		"rule no name":   {authz.PolicyConfig{Rules: []authz.Rule{{Actions: []string{"x"}}}}, authz.ErrInvalidConfig},
		"rule no action": {authz.PolicyConfig{Rules: []authz.Rule{{Name: "r"}}}, authz.ErrInvalidConfig},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := authz.NewPolicy(tc.cfg)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	diamond, err := authz.NewPolicy(authz.PolicyConfig{Roles: []authz.Role{
		{Name: "base", Permissions: []string{"p"}}, {Name: "l", Inherits: []string{"base"}},
		{Name: "r", Inherits: []string{"base"}}, {Name: "top", Inherits: []string{"l", "r"}}}})
	require.NoError(t, err, "a diamond is not a cycle")
	assert.Equal(t, []string{"p"}, diamond.Permissions("top"))
}

func TestSetPolicy_IsAtomicUnderConcurrency(t *testing.T) {
	grantAll, _ := authz.NewPolicy(authz.PolicyConfig{Roles: []authz.Role{{Name: "r", Permissions: []string{"a", "b"}}}})
	grantNone, _ := authz.NewPolicy(authz.PolicyConfig{Roles: []authz.Role{{Name: "r"}}})
	a := authz.New(grantAll)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				a.SetPolicy(grantNone)
			} else {
				a.SetPolicy(grantAll)
			}
		}
	})
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				p := a.Policy()
				// Both permissions come from one policy: both or neither.
				da := len(p.Permissions("r"))
				assert.True(t, da == 0 || da == 2)
				a.Assign("", "u", "r")
				_ = a.Decide(&authz.Request{Subject: principal("u"), Action: "a"})
			}
		})
	}
	close(stop)
	wg.Wait()
}

func TestRequirement(t *testing.T) {
	a := authz.New(shopPolicy(t))
	var denied []authz.Decision
	q, err := authz.NewRequirement(a, "products:write", authz.RequirementConfig{
		Hooks: authz.Hooks{OnDeny: func(_ *http.Request, d authz.Decision) { denied = append(denied, d) }}})
	require.NoError(t, err)
	assert.Equal(t, "products:write", q.Permission())
	h := q.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	cases := []struct {
		name     string
		p        *auth.Principal
		code     int
		sentinel error
	}{
		{"anonymous", nil, http.StatusUnauthorized, auth.ErrUnauthenticated},
		{"anonymous principal", &auth.Principal{}, http.StatusUnauthorized, auth.ErrUnauthenticated},
		{"lacks permission", &auth.Principal{Subject: "u", Roles: []string{"customer"}}, http.StatusForbidden, auth.ErrForbidden},
		{"has permission", &auth.Principal{Subject: "u", Roles: []string{"staff"}}, http.StatusNoContent, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/products", nil)
			if tc.p != nil {
				r = r.WithContext(auth.WithPrincipal(r.Context(), *tc.p))
			}
			err := q.Check(r)
			if tc.sentinel == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.sentinel)
				var de *authz.DeniedError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, "products:write", de.Permission)
				assert.NotEmpty(t, de.Decision.Reason)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.code, w.Code)
			if tc.code >= 400 {
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
				var body map[string]any
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
				assert.NotContains(t, w.Body.String(), "default deny", "reasons stay on the server")
			}
			if tc.code == http.StatusForbidden {
				assert.Contains(t, w.Body.String(), `"permission":"products:write"`)
			}
		})
	}
	assert.Len(t, denied, 3, "Handler tells the hook; Check does not")
}

func TestNewRequirement_RejectsBadConfig(t *testing.T) {
	a := authz.New(shopPolicy(t))
	cases := map[string]struct {
		a    *authz.Authorizer
		perm string
	}{
		"nil authorizer":      {nil, "products:write"},
		"empty permission":    {a, ""},
		"a pattern":           {a, "products:*"},
		"everything":          {a, "*"},
		"granted nowhere":     {authz.New(nil), "products:write"},
		"a typo in the route": {authz.New(mustPolicy(t, authz.PolicyConfig{Roles: []authz.Role{{Name: "r", Permissions: []string{"orders:write"}}}})), "orders:wirte"},
	}
	for name, tc := range cases {
		q, err := authz.NewRequirement(tc.a, tc.perm, authz.RequirementConfig{})
		assert.Nil(t, q, name)
		assert.ErrorIs(t, err, authz.ErrInvalidConfig, name)
	}
	for _, perm := range []string{"users:delete", "orders:read_any", "catalogue:browse"} {
		_, err := authz.NewRequirement(a, perm, authz.RequirementConfig{})
		assert.NoError(t, err, "%s: granted by a prefix, or named by a rule", perm)
	}
}

func mustPolicy(t *testing.T, cfg authz.PolicyConfig) *authz.Policy {
	t.Helper()
	p, err := authz.NewPolicy(cfg)
	require.NoError(t, err)
	return p
}

// TestRequirement_BehindAuthMiddlewareNamesItsRealm composes the real
// auth.Middleware and a Requirement: an anonymous request refused by the
// requirement gets the Middleware's realm, as a refused token does. It
// used to get a bare "Bearer".
func TestRequirement_BehindAuthMiddlewareNamesItsRealm(t *testing.T) {
	a := authz.New(shopPolicy(t))
	q, err := authz.NewRequirement(a, "orders:create", authz.RequirementConfig{})
	require.NoError(t, err)
	staff := auth.AuthenticatorFunc(func(_ context.Context, r *http.Request) (auth.Principal, error) {
		switch tok, ok := auth.BearerToken(r); {
		case !ok:
			return auth.Principal{}, auth.ErrNoCredential
		case tok == "staff":
			return principal("s1", "staff"), nil
		}
		return auth.Principal{}, fmt.Errorf("unknown token: %w", auth.ErrInvalidCredential)
	})
	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{staff}, Realm: "shop"})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /orders", q.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })))
	h := mw.Handler(mux)
	for _, tc := range []struct {
		token     string
		code      int
		challenge string
	}{
		{"", http.StatusUnauthorized, `Bearer realm="shop"`},
		{"forged", http.StatusUnauthorized, `Bearer realm="shop", error="invalid_token"`},
		{"staff", http.StatusCreated, ""},
	} {
		r := httptest.NewRequest(http.MethodPost, "/orders", nil)
		if tc.token != "" {
			r.Header.Set("Authorization", "Bearer "+tc.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, tc.code, w.Code, tc.token)
		assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"), tc.token)
	}
}

func TestCan_ReadsThePrincipalFromTheContext(t *testing.T) {
	a := authz.New(shopPolicy(t))
	ctx := auth.WithPrincipal(context.Background(), principal("u", "customer"))
	assert.True(t, a.Can(ctx, "orders:create", authz.Resource{}).Allowed)
	assert.False(t, a.Can(context.Background(), "orders:create", authz.Resource{}).Allowed)
}

// bigAuthorizer has nRoles roles (each inheriting along a binary tree) and
// nUsers users with 3 assigned roles each.
func bigAuthorizer(t testing.TB, nUsers, nRoles int) *authz.Authorizer {
	roles := make([]authz.Role, nRoles)
	for i := range roles {
		r := authz.Role{Name: fmt.Sprintf("role-%d", i)}
		for j := range 5 {
			r.Permissions = append(r.Permissions, fmt.Sprintf("res%d:act%d", i%500, j))
		}
		if i > 0 {
			r.Inherits = []string{fmt.Sprintf("role-%d", i/2)}
		}
		roles[i] = r
	}
	p, err := authz.NewPolicy(authz.PolicyConfig{Roles: roles})
	require.NoError(t, err)
	a := authz.New(p)
	for u := range nUsers {
		a.Assign("t", fmt.Sprintf("user-%d", u), fmt.Sprintf("role-%d", u%nRoles), fmt.Sprintf("role-%d", (u*7)%nRoles), fmt.Sprintf("role-%d", (u*13)%nRoles))
	}
	return a
}

// TestDecide_AllocatesNothing checks the allocation budget on a smaller
// policy of the same shape as the benchmark's (which has 100k users and 10k
// roles), so the test stays fast under -race.
func TestDecide_AllocatesNothing(t *testing.T) {
	a := bigAuthorizer(t, 10_000, 5_000)
	req := &authz.Request{Subject: auth.Principal{Subject: "user-4242", Tenant: "t"}, Action: "res1:act3"}
	require.True(t, a.Decide(req).Allowed, "role-4242 inherits role-1 through halving")
	allocs := testing.AllocsPerRun(1000, func() { _ = a.Decide(req) })
	assert.Zero(t, allocs)
}

func FuzzNewPolicy(f *testing.F) {
	f.Add([]byte{0, 1, 1, 2, 2, 0}, "p:*")
	f.Add([]byte{3, 3}, "*")
	f.Fuzz(func(t *testing.T, edges []byte, perm string) {
		// edges are pairs (child, parent) over 8 roles.
		roles := make([]authz.Role, 8)
		for i := range roles {
			roles[i] = authz.Role{Name: fmt.Sprint("r", i), Permissions: []string{perm}}
		}
		for i := 0; i+1 < len(edges); i += 2 {
			c, p := edges[i]%8, edges[i+1]%8
			roles[c].Inherits = append(roles[c].Inherits, fmt.Sprint("r", p))
		}
		pol, err := authz.NewPolicy(authz.PolicyConfig{Roles: roles})
		if err != nil {
			return
		}
		a := authz.New(pol)
		d := a.Decide(&authz.Request{Subject: principal("u", "r0"), Action: perm})
		if perm != "" && !d.Allowed && perm[len(perm)-1] != '*' {
			t.Fatalf("r0 was granted %q but is denied: %s", perm, d.Reason)
		}
	})
}

func Example() {
	policy, err := authz.NewPolicy(authz.PolicyConfig{
		Roles: []authz.Role{
			{Name: "customer", Permissions: []string{"orders:create"}},
			{Name: "admin", Permissions: []string{"products:*"}, Inherits: []string{"customer"}},
		},
	})
	if err != nil {
		panic(err)
	}
	a := authz.New(policy)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "user_42", Roles: []string{"admin"}})
	fmt.Println(a.Can(ctx, "products:write", authz.Resource{}))
	fmt.Println(a.Can(ctx, "users:delete", authz.Resource{}))
	// Output:
	// {true role admin}
	// {false default deny}
}

func ExampleRequirement() {
	policy, err := authz.NewPolicy(authz.PolicyConfig{
		Roles: []authz.Role{{Name: "admin", Permissions: []string{"products:write"}}},
	})
	if err != nil {
		panic(err)
	}
	writeProducts, err := authz.NewRequirement(authz.New(policy), "products:write", authz.RequirementConfig{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /products", writeProducts.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})))

	for _, roles := range [][]string{{"admin"}, {"customer"}} {
		r := httptest.NewRequest(http.MethodPost, "/products", nil)
		// An auth.Middleware puts the principal there in a real service.
		r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: "user_42", Roles: roles}))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(roles, w.Code)
	}
	// Output:
	// [admin] 201
	// [customer] 403
}

func BenchmarkCan_100kUsers10kRoles(b *testing.B) {
	a := bigAuthorizer(b, 100_000, 10_000)
	req := &authz.Request{Subject: auth.Principal{Subject: "user-4242", Tenant: "t"}, Action: "res1:act3"}
	b.ReportAllocs()
	for b.Loop() {
		if !a.Decide(req).Allowed {
			b.Fatal("denied")
		}
	}
}
