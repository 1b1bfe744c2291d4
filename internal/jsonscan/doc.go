// Package jsonscan is the JSON lexer that auth/token and validate share:
// whitespace, strings, numbers, literals, member names, separators and
// whole values, per RFC 8259, over a byte slice, allocating nothing.
//
// Each function takes the document and an offset, and returns the offset
// after what it read together with an [Error] whose Kind is [None] on
// success. The grammar above the tokens is each caller's: validate walks
// objects and arrays guided by the schema of a Go type, and auth/token
// reads one flat object and skips its values with [SkipValue]. So are the
// rules about duplicate member names: auth/token compares them ignoring
// case, as encoding/json matches struct fields, while validate compares
// them exactly and reports a name that matches a field only without case
// as a field-case violation of its own.
//
// One rule is stricter than encoding/json, and both callers need it: a
// string must be valid Unicode. Invalid UTF-8 and lone surrogate escapes
// are refused where encoding/json replaces them with U+FFFD, so that no two
// spellings of a member name or a value can meet by repair.
package jsonscan
