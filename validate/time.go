package validate

import "time"

// TimeField checks one time.Time. Rules take explicit times rather than
// reading a clock, so that the caller decides what "now" is and tests need
// no clock. Rules stop at the first failure; an absent optional time
// passes all but Required and Present.
type TimeField struct {
	v      *Validator
	name   string
	t      time.Time
	absent bool
	failed bool
}

// Time starts the rules of the time member name.
func (v *Validator) Time(name string, t time.Time) TimeField {
	v.seen(name)
	return TimeField{v: v, name: name, t: t}
}

// TimePtr starts the rules of an optional time member: nil is absent.
func (v *Validator) TimePtr(name string, p *time.Time) TimeField {
	v.seen(name)
	if p == nil {
		return TimeField{v: v, name: name, absent: true}
	}
	return TimeField{v: v, name: name, t: *p}
}

// Failed reports whether a rule of the chain has failed.
func (f TimeField) Failed() bool { return f.failed }

func (f TimeField) skip() bool { return f.failed || f.absent }

// fail records the violation; it stays out of line so that the fast
// path of each rule is small enough to inline.
//
//go:noinline
func (f TimeField) fail(code, template string, params ...Param) TimeField {
	f.v.Report(f.name, code, template, params...)
	f.failed = true
	return f
}

// Required fails with [CodeRequired] when the time is absent or the zero
// time.
func (f TimeField) Required() TimeField {
	if f.failed || (!f.absent && !f.t.IsZero()) {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// Present fails with [CodeRequired] when the time is absent.
func (f TimeField) Present() TimeField {
	if f.failed || !f.absent {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// Before fails with [CodeNotBefore] unless the time is strictly before t.
func (f TimeField) Before(t time.Time) TimeField {
	if f.skip() || f.t.Before(t) {
		return f
	}
	return f.fail(CodeNotBefore, msgNotBefore, Param{"before", t})
}

// After fails with [CodeNotAfter] unless the time is strictly after t.
func (f TimeField) After(t time.Time) TimeField {
	if f.skip() || f.t.After(t) {
		return f
	}
	return f.fail(CodeNotAfter, msgNotAfter, Param{"after", t})
}

// AfterField is the cross-field form of After: "end must be after start".
// The violation names the other member in the param "field", and its
// message says "must be after start" rather than a timestamp.
func (f TimeField) AfterField(field string, t time.Time) TimeField {
	if f.skip() || f.t.After(t) {
		return f
	}
	return f.fail(CodeNotAfter, "must be after {field}", Param{"after", t}, Param{"field", field})
}

// BeforeField is the cross-field form of Before.
func (f TimeField) BeforeField(field string, t time.Time) TimeField {
	if f.skip() || f.t.Before(t) {
		return f
	}
	return f.fail(CodeNotBefore, "must be before {field}", Param{"before", t}, Param{"field", field})
}

// Within fails with [CodeNotWithin] when the time is more than d away
// from reference, in either direction: Within(now, 24*time.Hour) accepts
// yesterday to tomorrow. The sign of d is ignored.
func (f TimeField) Within(reference time.Time, d time.Duration) TimeField {
	if f.skip() {
		return f
	}
	if d < 0 {
		d = -d
	}
	diff := f.t.Sub(reference)
	if diff >= -d && diff <= d {
		return f
	}
	return f.fail(CodeNotWithin, msgNotWithin, Param{"reference", reference}, Param{"within", d})
}

// Check fails with code and template when ok is false.
func (f TimeField) Check(ok bool, code, template string) TimeField {
	if f.skip() || ok {
		return f
	}
	return f.fail(code, template)
}
