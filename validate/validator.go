package validate

import (
	"slices"
)

// Validatable is implemented by types that know their own rules. Validate
// reports every broken rule to v; it must not keep v after returning.
type Validatable interface {
	Validate(v *Validator)
}

// Validator collects the violations of one validation run, each at the
// path where it happened. Rules are the typed field builders ([Validator.String],
// [Number], [Slice], ...), which check at once and report to the Validator.
//
// A zero Validator is ready to use and keeps at most [DefaultMaxViolations]
// violations. A Validator is not safe for concurrent use: one run, one
// goroutine. [Checker.Check] pools Validators so that a valid value costs no
// allocation.
type Validator struct {
	stack  Path      // where the current Validate call is
	recs   []record  // violations found so far
	segs   []Segment // arena for the recs' paths
	params []Param   // arena for the recs' params
	limit  int       // 0 means DefaultMaxViolations
	over   bool      // more violations than limit were reported
	names  *[]string // when non-nil, every field name seen (for CheckFieldNames)

	// Buffers of the strict JSON walk, kept here so that a pooled
	// Validator lends them to the next decode.
	scanKeys    []string
	scanScratch []byte
}

type record struct {
	code, template   string
	segLo, segHi     int
	paramLo, paramHi int
}

// DefaultMaxViolations bounds the violations one run keeps when the
// Validator's limit is not set, so that a hostile body with a million bad
// elements cannot make a million-entry response: with the excerpts of
// [Problem], twenty entries keep a problem within a few KB while still
// listing every mistake of an ordinary form.
const DefaultMaxViolations = 20

// Report records a violation at the field name below the current path
// ("" means the current path itself). Use it for rules the builders do not
// have; code should be a stable snake_case word and template an English
// message that may use {param} placeholders.
func (v *Validator) Report(name, code, template string, params ...Param) {
	v.seen(name)
	limit := v.limit
	if limit == 0 {
		limit = DefaultMaxViolations
	}
	if len(v.recs) >= limit {
		v.over = true
		return
	}
	r := record{code: code, template: template, segLo: len(v.segs), paramLo: len(v.params)}
	v.segs = append(v.segs, v.stack...)
	if name != "" {
		v.segs = append(v.segs, Key(name))
	}
	v.params = append(v.params, params...)
	r.segHi, r.paramHi = len(v.segs), len(v.params)
	v.recs = append(v.recs, r)
}

// At runs fn with the current path extended by name, so that the rules fn
// reports land under name. It is how one validates a nested object whose
// rules are not a [Validatable] of their own.
func (v *Validator) At(name string, fn func(v *Validator)) {
	v.seen(name)
	v.push(Key(name))
	fn(v)
	v.pop()
}

// Nested validates x as the member name of the current object. An empty
// name validates x in place (for embedded structs).
func (v *Validator) Nested(name string, x Validatable) {
	if name == "" {
		x.Validate(v)
		return
	}
	v.seen(name)
	v.push(Key(name))
	x.Validate(v)
	v.pop()
}

// NestedPtr validates *p as the member name when p is not nil. An absent
// optional object is not a violation; pair it with [Present] when the
// member is required.
func NestedPtr[T any, P interface {
	*T
	Validatable
}](v *Validator, name string, p P) {
	if p == nil {
		return
	}
	v.Nested(name, p)
}

// Present reports [CodeRequired] at name when p is nil and returns whether
// p is present. It is the "present" test, distinct from "non-zero": a
// pointer to "" or 0 is present.
func Present[T any](v *Validator, name string, p *T) bool {
	v.seen(name)
	if p == nil {
		v.Report(name, CodeRequired, msgRequired)
		return false
	}
	return true
}

// Valid reports whether no violation has been recorded so far. Rules that
// only make sense once others hold can be guarded with it.
func (v *Validator) Valid() bool { return len(v.recs) == 0 && !v.over }

// Err returns the violations recorded so far as an [*Errors], or nil.
// The result does not share memory with v, which can be reused after
// [Validator.Reset].
func (v *Validator) Err() error {
	if len(v.recs) == 0 {
		if v.over {
			return &Errors{Truncated: true}
		}
		return nil
	}
	return v.errors()
}

// Reset empties v for another run, keeping its buffers.
func (v *Validator) Reset() {
	// Clear what was used so that a pooled Validator does not keep the
	// last request's strings and param values alive.
	clear(v.stack)
	clear(v.recs)
	clear(v.segs)
	clear(v.params)
	v.stack = v.stack[:0]
	v.recs = v.recs[:0]
	v.segs = v.segs[:0]
	v.params = v.params[:0]
	v.over = false
	v.names = nil
}

func (v *Validator) errors() *Errors {
	// One allocation per kind of data, however many violations: the
	// violations share one Segment and one Param backing array.
	segs := slices.Clone(v.segs)
	var params []Param
	if len(v.params) > 0 {
		params = slices.Clone(v.params)
	}
	out := make([]Violation, len(v.recs))
	for i, r := range v.recs {
		out[i] = Violation{
			Path:     Path(segs[r.segLo:r.segHi:r.segHi]),
			Code:     r.code,
			Template: r.template,
		}
		if r.paramHi > r.paramLo {
			out[i].Params = params[r.paramLo:r.paramHi:r.paramHi]
		}
	}
	return &Errors{Violations: out, Truncated: v.over}
}

// sortFrom puts the violations recorded since from in the order of the path
// segment at depth, so that the violations of a map's entries come out in
// key order rather than Go's random map order.
func (v *Validator) sortFrom(from, depth int) {
	if len(v.recs)-from < 2 {
		return
	}
	slices.SortStableFunc(v.recs[from:], func(a, b record) int {
		return compareSegment(v.segs[a.segLo:a.segHi], v.segs[b.segLo:b.segHi], depth)
	})
}

func compareSegment(a, b []Segment, depth int) int {
	if depth >= len(a) || depth >= len(b) {
		return len(a) - len(b)
	}
	sa, sb := a[depth], b[depth]
	if sa.Index != sb.Index {
		return sa.Index - sb.Index
	}
	switch {
	case sa.Key < sb.Key:
		return -1
	case sa.Key > sb.Key:
		return 1
	}
	return 0
}

func (v *Validator) push(s Segment) { v.stack = append(v.stack, s) }
func (v *Validator) pop()           { v.stack = v.stack[:len(v.stack)-1] }

// seen records the member names that rules use at the top level, for
// CheckFieldNames; it costs one nil test otherwise.
func (v *Validator) seen(name string) {
	if v.names != nil && name != "" && len(v.stack) == 0 {
		*v.names = append(*v.names, name)
	}
}

// Check runs x's rules with a fresh Validator and returns nil or an
// [*Errors]. It costs a few allocations per call; [Checker.Check] pools
// its Validators and costs none for a valid value.
func Check(x Validatable) error {
	var v Validator
	x.Validate(&v)
	return v.Err()
}
