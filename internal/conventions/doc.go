// Package conventions checks, from the source alone, the rules of
// ARCHITECTURE.md's "Conventions every package follows (v1)" that a parser
// can decide, so that a package that breaks one fails a test instead of
// waiting for a reviewer to notice.
//
// [Check] parses every package below a module root with go/parser (not
// examples/, testdata, nested modules or hidden directories) and reports
// each [Finding] with its rule:
//
//   - [RuleMiddlewareShape]: an exported function or method returns
//     func(http.Handler) http.Handler instead of a value with Handler(next).
//   - [RuleHooks]: a Hooks type (named Hooks or ending in Hooks) has a field
//     that is not a func or a callback not named On<Event>, a Config
//     struct holds a pointer to a Hooks type, or another struct holds an
//     On<Event> callback.
//   - [RuleConfigError]: a package declares ErrConfig, or an
//     ErrInvalidConfig whose message is not "<pkg>: invalid config".
//   - [RuleStutter]: an exported name repeats its package's name
//     (token.TokenX, token.ErrTokenX, idempotency.Idempotency), unless
//     [AllowedStutter] lists it with a reason.
//   - [RuleNames]: a type or package named Manager, Util(s), Helper(s) or
//     Common.
//   - [RuleDocGo]: a package without doc.go, or whose doc.go has no
//     package comment.
//   - [RuleDocComment]: an exported name without a doc comment.
//   - [RuleExampleTestenv]: an Example function calls internal/testenv:
//     godoc shows it to users, who cannot import it.
//
// The test of this package runs Check on the module and on fixtures under
// testdata/, one per rule, that prove each rule can fail.
package conventions
