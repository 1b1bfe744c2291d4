package conventions_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bedrock-go/bedrock/internal/conventions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModuleFollowsConventions is the check itself: every package of the
// module follows the conventions of ARCHITECTURE.md.
func TestModuleFollowsConventions(t *testing.T) {
	findings, err := conventions.Check("../..", conventions.AllowedStutter())
	require.NoError(t, err)
	for _, f := range findings {
		t.Error(f)
	}
}

// TestCheck_EachRuleCanFail runs the checker on fixtures that break one rule
// each and asserts exactly what it finds, so that a rule that silently stops
// working fails here; "clean" breaks none and proves the rules do not fire
// on what the conventions allow.
func TestCheck_EachRuleCanFail(t *testing.T) {
	const shape = "middleware is a value with Handler(next http.Handler) http.Handler"
	const hooksValue = "hooks are a value, so a zero Config is valid and a copy never aliases another's hooks"
	const badName = "a type is named for what it is, not Manager, Util, Helper or Common"
	tests := []struct {
		fixture string
		allowed map[string]string
		want    []string
	}{
		{"middleware", nil, []string{
			"mw/mw.go:6: middleware-shape: Wrap returns func(http.Handler) http.Handler: " + shape,
			"mw/mw.go:12: middleware-shape: Gate.Middleware returns func(http.Handler) http.Handler: " + shape,
		}},
		{"hooks", nil, []string{
			"hk/hk.go:5: hooks: Hooks.Count is not a func: a Hooks struct holds only On<Event> func fields",
			"hk/hk.go:6: hooks: Hooks.Hit: a callback is named On<Event>",
			"hk/hk.go:20: hooks: Config holds *Hooks: " + hooksValue,
			"hk/hk.go:25: hooks: RetryConfig holds *RetryHooks: " + hooksValue,
			"hk/hk.go:26: hooks: RetryConfig.OnDone: an On<Event> callback belongs in a Hooks struct",
		}},
		{"configerror", nil, []string{
			"old/old.go:6: config-error: ErrConfig: the config sentinel is ErrInvalidConfig in every package",
			`wording/wording.go:11: config-error: ErrInvalidConfig must be errors.New("wording: invalid config")`,
			`wrapped/wrapped.go:6: config-error: ErrInvalidConfig must be errors.New("wrapped: invalid config")`,
		}},
		{"stutter", map[string]string{"token.Token": "allowed in this test", "token.Gone": "not declared"}, []string{
			"(allow-list):0: stutter: token.Gone is allowed to stutter but is no longer declared: remove it from the list",
			"idempotency/idempotency.go:4: stutter: idempotency.Idempotency repeats the package's name",
			"token/token.go:6: stutter: token.TokenVerifier repeats the package's name",
			"token/token.go:9: stutter: token.ErrTokenExpired repeats the package's name",
		}},
		{"names", nil, []string{
			"util:0: names: package util: a package is named for what it provides",
			"util/util.go:4: names: type Manager: " + badName,
			"util/util.go:7: names: type KeyHelper: " + badName,
			"util/util.go:10: names: type Common: " + badName,
		}},
		{"docgo", nil, []string{
			"empty/doc.go:1: doc-go: doc.go of package empty has no package comment",
			"nodoc:0: doc-go: package nodoc has no doc.go",
		}},
		{"doccomment", nil, []string{
			"bare/bare.go:3: doc-comment: Exported has no doc comment",
			"bare/bare.go:5: doc-comment: Type has no doc comment",
			"bare/bare.go:7: doc-comment: Type.Method has no doc comment",
			"bare/bare.go:9: doc-comment: Type.Documented has no doc comment",
			"bare/bare.go:17: doc-comment: Lonely has no doc comment",
			"bare/bare.go:22: doc-comment: Plain has no doc comment",
		}},
		{"exampletestenv", nil, []string{
			"ex/ex_test.go:10: example-testenv: Example uses env.Redis: users cannot import internal/testenv; build the client from the environment",
		}},
		{"clean", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			findings, err := conventions.Check("testdata/"+tt.fixture, tt.allowed)
			require.NoError(t, err)
			var got []string
			for _, f := range findings {
				got = append(got, f.String())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestCheck_ParseErrorIsReturned: a file that does not parse is an error,
// not a silent pass.
func TestCheck_ParseErrorIsReturned(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "doc.go"), []byte("package broken\nfunc {"), 0o600))
	_, err := conventions.Check(dir, nil)
	assert.Error(t, err)
}

// TestAllowedStutter_EveryEntryHasAReason keeps the allow-list honest.
func TestAllowedStutter_EveryEntryHasAReason(t *testing.T) {
	for name, reason := range conventions.AllowedStutter() {
		assert.NotEmpty(t, reason, name)
	}
}
