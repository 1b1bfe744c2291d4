// Package validate checks request data with rules written in Go, reports
// each broken rule at its JSON path, decodes JSON request bodies strictly,
// and answers clients with RFC 9457 problem details.
//
// # Rules
//
// A type lists its rules in a Validate method. Rules are typed builders
// that check at once, so there are no struct tags to misspell and nothing
// to parse or reflect on at run time; a valid value costs no allocation:
//
//	func (s *Signup) Validate(v *validate.Validator) {
//		v.String("email", s.Email).Required().Email()
//		v.String("name", s.Name).Required().Runes(2, 50)
//		validate.Number(v, "age", s.Age).Between(0, 130)
//		validate.Slice(v, "tags", s.Tags).MaxItems(3).Each(func(v *validate.Validator, tag string) {
//			v.String("", tag).MaxRunes(20)
//		})
//	}
//
// The builders are [Validator.String], [Number], [Validator.Time], [Slice]
// and [Map], with pointer forms ([Validator.StringPtr], [NumberPtr],
// [Validator.TimePtr]) for optional members. Nested objects implement
// [Validatable] and are checked with [Validator.Nested] or [NestedPtr];
// rules across members are [Validator.ExactlyOne], [Validator.AtLeastOne],
// [Validator.MutuallyExclusive] and [TimeField.AfterField]; anything else
// is a Check or Func on a builder, or [Validator.Report].
//
// # Present is not non-zero
//
// Go's zero values hide whether a client sent a member. Declare a member
// that may be absent as a pointer: nil means absent, and Present fails only
// then, while Required fails for absent and for zero ("", 0, the zero
// time, an empty slice). Slices and maps are absent when nil, so JSON null
// or a missing member, and present when empty ([] or {}).
//
// # Paths
//
// Rules name members by their JSON names, and a [Violation]'s [Path]
// renders both as items[2].sku and as the JSON Pointer /items/2/sku.
// Because names are written by hand, [CheckFieldNames] verifies in a test
// that a type's rules use only the names its json tags define.
//
// # Violations and messages
//
// A [Violation] has a stable Code (the Code constants, such as
// [CodeTooLong]), Params such as {"max": 50}, and an English template,
// "must be at most {max} characters long". A [Translator] (for instance
// [Templates], a table by code) renders it in another language. Violations
// come back as [*Errors], which implements error: use errors.As.
//
// # Strict JSON decoding
//
// [Checker.DecodeJSON] reads a request body under a size limit, checks
// that it is JSON, and walks it once against the target type before
// decoding, refusing what encoding/json silently accepts: unknown members,
// members matching a field only without case ("EMAIL" for "email"),
// duplicate members (of which encoding/json keeps the last, the classic
// {"role":"user","role":"admin"} smuggling), invalid UTF-8, null for
// types without null, trailing data, and nesting beyond a limit. Type
// errors are all reported at once, each with its path. The value is then
// validated when it is [Validatable].
//
// The final decode uses encoding/json. Built with GOEXPERIMENT=jsonv2 (Go
// 1.25 and later), it uses encoding/json/v2 with RejectUnknownMembers
// instead, whose errors carry a JSON Pointer; the strict walk runs either
// way, so the behaviour and the reported paths are the same.
//
// # Problem details
//
// [Checker.WriteProblem] (or [Problem], with a zero Config) turns any of
// these errors into an application/problem+json response, and
// [Checker.HandlerFunc] does it for a handler that returns its error: 415 for a wrong Content-Type, 413 for
// a body over the limit, 400 for malformed JSON or a body that does not
// fit the type, and 422 for broken rules, with an "errors" member of
// {pointer, code, detail, params} entries as in RFC 9457's example. Other
// errors become a bare 500 that does not show their text.
//
// The type is "about:blank" unless [Config.ProblemTypeBase] gives each kind
// of failure a URI of its own; with about:blank the title is the status
// phrase of RFC 9110 ("Unprocessable Content", "Content Too Large"), as
// RFC 9457 requires, and the detail says what went wrong.
//
// A problem stays a few KB whatever the body held, because clients' mistakes
// are cheap to make and problems get stored (idempotency records) and
// logged. It lists at most [Config.MaxViolations] entries (20 by default),
// with "truncated": true when more were found, and echoes client input only
// in excerpts ending with "…": a member name in a pointer is cut to 64
// bytes and a whole pointer to 256, a string param (such as the reason a
// type's own decoder gave, which often quotes the value) to 128, a message
// to 256, and a header value in a detail to 64. An entry with a cut value
// has "truncated": true; its pointer then no longer resolves. The error
// text of [*Errors] and [*DecodeError] is bounded the same way; the
// [Violation] values keep the full paths and params.
package validate
