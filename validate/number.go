package validate

import "math"

// Real is the set of Go number types the number rules accept.
type Real interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr |
		~float32 | ~float64
}

// NumberField checks one number. Like [StringField], rules stop at the
// first failure and an absent optional number passes all but Required and
// Present.
type NumberField[T Real] struct {
	v      *Validator
	name   string
	n      T
	absent bool
	failed bool
}

// Number starts the rules of the number member name.
func Number[T Real](v *Validator, name string, n T) NumberField[T] {
	v.seen(name)
	return NumberField[T]{v: v, name: name, n: n}
}

// NumberPtr starts the rules of an optional number member: nil is absent,
// while a pointer to 0 is present.
func NumberPtr[T Real](v *Validator, name string, p *T) NumberField[T] {
	v.seen(name)
	if p == nil {
		return NumberField[T]{v: v, name: name, absent: true}
	}
	return NumberField[T]{v: v, name: name, n: *p}
}

// Failed reports whether a rule of the chain has failed.
func (f NumberField[T]) Failed() bool { return f.failed }

func (f NumberField[T]) skip() bool { return f.failed || f.absent }

// fail records the violation; it stays out of line so that the fast
// path of each rule is small enough to inline.
//
//go:noinline
func (f NumberField[T]) fail(code, template string, params ...Param) NumberField[T] {
	f.v.Report(f.name, code, template, params...)
	f.failed = true
	return f
}

// Required fails with [CodeRequired] when the number is absent or zero.
func (f NumberField[T]) Required() NumberField[T] {
	if f.failed || (!f.absent && f.n != 0) {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// Present fails with [CodeRequired] when the number is absent; 0 is
// present.
func (f NumberField[T]) Present() NumberField[T] {
	if f.failed || !f.absent {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// Min fails with [CodeTooSmall] when the number is below lo. NaN is below
// every bound.
func (f NumberField[T]) Min(lo T) NumberField[T] {
	if f.skip() || f.n >= lo {
		return f
	}
	return f.fail(CodeTooSmall, msgTooSmall, Param{"min", lo})
}

// Max fails with [CodeTooLarge] when the number is above hi. NaN is above
// every bound.
func (f NumberField[T]) Max(hi T) NumberField[T] {
	if f.skip() || f.n <= hi {
		return f
	}
	return f.fail(CodeTooLarge, msgTooLarge, Param{"max", hi})
}

// Between fails with [CodeOutOfRange] unless lo <= n <= hi.
func (f NumberField[T]) Between(lo, hi T) NumberField[T] {
	if f.skip() || (f.n >= lo && f.n <= hi) {
		return f
	}
	return f.fail(CodeOutOfRange, msgOutOfRange, Param{"min", lo}, Param{"max", hi})
}

// Positive fails with [CodeNotPositive] unless n > 0.
func (f NumberField[T]) Positive() NumberField[T] {
	if f.skip() || f.n > 0 {
		return f
	}
	return f.fail(CodeNotPositive, msgNotPositive)
}

// NonNegative fails with [CodeNegative] unless n >= 0.
func (f NumberField[T]) NonNegative() NumberField[T] {
	if f.skip() || f.n >= 0 {
		return f
	}
	return f.fail(CodeNegative, msgNegative)
}

// MultipleOf fails with [CodeNotMultiple] unless n is a whole multiple of
// factor. Integers are checked exactly; floats within a relative 1e-9, so
// that 0.3 counts as a multiple of 0.1. A zero factor only accepts 0.
func (f NumberField[T]) MultipleOf(factor T) NumberField[T] {
	if f.skip() || isMultiple(f.n, factor) {
		return f
	}
	return f.fail(CodeNotMultiple, msgNotMultiple, Param{"factor", factor})
}

// OneOf fails with [CodeNotAllowed] unless the number equals one of
// allowed.
func (f NumberField[T]) OneOf(allowed ...T) NumberField[T] {
	if f.skip() {
		return f
	}
	for _, a := range allowed {
		if f.n == a {
			return f
		}
	}
	return f.fail(CodeNotAllowed, msgNotAllowed, Param{"allowed", append([]T(nil), allowed...)})
}

// Check fails with code and template when ok is false.
func (f NumberField[T]) Check(ok bool, code, template string) NumberField[T] {
	if f.skip() || ok {
		return f
	}
	return f.fail(code, template)
}

// Func fails with code and template when rule returns false; rule is not
// called for an absent number or after a failure.
func (f NumberField[T]) Func(rule func(T) bool, code, template string) NumberField[T] {
	if f.skip() || rule(f.n) {
		return f
	}
	return f.fail(code, template)
}

func isMultiple[T Real](n, factor T) bool {
	if factor == 0 {
		return n == 0
	}
	var half T = 1
	half /= 2
	if half != 0 { // a float type
		q := float64(n) / float64(factor)
		if math.IsNaN(q) || math.IsInf(q, 0) {
			return false
		}
		return math.Abs(q-math.Round(q)) <= 1e-9*math.Max(1, math.Abs(q))
	}
	var zero T
	if zero-1 > 0 { // unsigned
		return uint64(n)%uint64(factor) == 0
	}
	if int64(factor) == -1 { // MinInt64 % -1 overflows
		return true
	}
	return int64(n)%int64(factor) == 0
}
