package validate

import (
	"fmt"
	"strconv"
)

// SliceField checks one slice and, through Each, its elements. Rules stop
// at the first failure; a nil slice is absent (JSON null or a missing
// member) and passes all but Required and Present, while an empty,
// non-nil slice ([]) is present.
type SliceField[E any] struct {
	v      *Validator
	name   string
	s      []E
	failed bool
}

// Slice starts the rules of the array member name.
func Slice[E any](v *Validator, name string, s []E) SliceField[E] {
	v.seen(name)
	return SliceField[E]{v: v, name: name, s: s}
}

// Failed reports whether a rule of the chain has failed.
func (f SliceField[E]) Failed() bool { return f.failed }

func (f SliceField[E]) skip() bool { return f.failed || f.s == nil }

// fail records the violation; it stays out of line so that the fast
// path of each rule is small enough to inline.
//
//go:noinline
func (f SliceField[E]) fail(code, template string, params ...Param) SliceField[E] {
	f.v.Report(f.name, code, template, params...)
	f.failed = true
	return f
}

// Required fails with [CodeRequired] when the slice is nil or empty.
func (f SliceField[E]) Required() SliceField[E] {
	if f.failed || len(f.s) > 0 {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// Present fails with [CodeRequired] when the slice is nil.
func (f SliceField[E]) Present() SliceField[E] {
	if f.failed || f.s != nil {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// MinItems fails with [CodeTooFewItems] when the slice has fewer than n
// elements.
func (f SliceField[E]) MinItems(n int) SliceField[E] {
	if f.skip() || len(f.s) >= n {
		return f
	}
	return f.fail(CodeTooFewItems, msgTooFewItems, Param{"min", n})
}

// MaxItems fails with [CodeTooManyItems] when the slice has more than n
// elements.
func (f SliceField[E]) MaxItems(n int) SliceField[E] {
	if f.skip() || len(f.s) <= n {
		return f
	}
	return f.fail(CodeTooManyItems, msgTooManyItems, Param{"max", n})
}

// Each runs rules on every element, with the path extended by the
// element's index; inside rules, name the element itself with "" (for
// example v.String("", tag)). Each is skipped when an earlier rule failed,
// so that a 10 000-element body refused by MaxItems is not also checked
// element by element.
func (f SliceField[E]) Each(rules func(v *Validator, e E)) SliceField[E] {
	if f.skip() {
		return f
	}
	v := f.v
	if f.name != "" {
		v.push(Key(f.name))
	}
	for i, e := range f.s {
		v.push(Index(i))
		rules(v, e)
		v.pop()
	}
	if f.name != "" {
		v.pop()
	}
	return f
}

// Check fails with code and template when ok is false.
func (f SliceField[E]) Check(ok bool, code, template string) SliceField[E] {
	if f.skip() || ok {
		return f
	}
	return f.fail(code, template)
}

// uniqueScanLimit is the length up to which Unique compares pairs rather
// than building a map: below it the quadratic scan is faster and free of
// allocation.
const uniqueScanLimit = 32

// Unique fails with [CodeDuplicate] at the first element equal to an
// earlier one, with the earlier one's index in the param "index".
func Unique[E comparable](f SliceField[E]) SliceField[E] {
	return UniqueBy(f, func(e E) E { return e })
}

// UniqueBy is Unique for elements compared by key(e), such as the "sku" of
// order lines.
func UniqueBy[E any, K comparable](f SliceField[E], key func(E) K) SliceField[E] {
	if f.skip() || len(f.s) < 2 {
		return f
	}
	first, dup := -1, -1
	if len(f.s) <= uniqueScanLimit {
		first, dup = scanDuplicate(f.s, key)
	} else {
		seen := make(map[K]int, len(f.s))
		for i, e := range f.s {
			k := key(e)
			if j, ok := seen[k]; ok {
				first, dup = j, i
				break
			}
			seen[k] = i
		}
	}
	if dup < 0 {
		return f
	}
	v := f.v
	if f.name != "" {
		v.push(Key(f.name))
	}
	v.push(Index(dup))
	v.Report("", CodeDuplicate, msgDuplicate, Param{"index", first})
	v.pop()
	if f.name != "" {
		v.pop()
	}
	f.failed = true
	return f
}

func scanDuplicate[E any, K comparable](s []E, key func(E) K) (int, int) {
	var keys [uniqueScanLimit]K
	for i, e := range s {
		k := key(e)
		for j := 0; j < i; j++ {
			if keys[j] == k {
				return j, i
			}
		}
		keys[i] = k
	}
	return -1, -1
}

// MapField checks one map and, through Keys and Values, its entries.
// Violations inside a map come out in key order, not Go's random map
// order. A nil map is absent and passes all but Required and Present.
type MapField[K comparable, V any] struct {
	v      *Validator
	name   string
	m      map[K]V
	failed bool
}

// Map starts the rules of the object member name used as a map.
func Map[K comparable, V any](v *Validator, name string, m map[K]V) MapField[K, V] {
	v.seen(name)
	return MapField[K, V]{v: v, name: name, m: m}
}

// Failed reports whether a rule of the chain has failed.
func (f MapField[K, V]) Failed() bool { return f.failed }

func (f MapField[K, V]) skip() bool { return f.failed || f.m == nil }

// fail records the violation; it stays out of line so that the fast
// path of each rule is small enough to inline.
//
//go:noinline
func (f MapField[K, V]) fail(code, template string, params ...Param) MapField[K, V] {
	f.v.Report(f.name, code, template, params...)
	f.failed = true
	return f
}

// Required fails with [CodeRequired] when the map is nil or empty.
func (f MapField[K, V]) Required() MapField[K, V] {
	if f.failed || len(f.m) > 0 {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// Present fails with [CodeRequired] when the map is nil.
func (f MapField[K, V]) Present() MapField[K, V] {
	if f.failed || f.m != nil {
		return f
	}
	return f.fail(CodeRequired, msgRequired)
}

// MinItems fails with [CodeTooFewItems] when the map has fewer than n
// entries.
func (f MapField[K, V]) MinItems(n int) MapField[K, V] {
	if f.skip() || len(f.m) >= n {
		return f
	}
	return f.fail(CodeTooFewItems, msgTooFewItems, Param{"min", n})
}

// MaxItems fails with [CodeTooManyItems] when the map has more than n
// entries.
func (f MapField[K, V]) MaxItems(n int) MapField[K, V] {
	if f.skip() || len(f.m) <= n {
		return f
	}
	return f.fail(CodeTooManyItems, msgTooManyItems, Param{"max", n})
}

// Keys runs rules on every key, at the path of its entry; name the key
// itself with "" inside rules. Keys of type string, int, int64 and uint64
// go into paths without allocating; other key types are formatted with fmt.
func (f MapField[K, V]) Keys(rules func(v *Validator, k K)) MapField[K, V] {
	return f.each(func(v *Validator, k K, _ V) { rules(v, k) })
}

// Values runs rules on every value, at the path of its entry; name the
// value itself with "" inside rules.
func (f MapField[K, V]) Values(rules func(v *Validator, val V)) MapField[K, V] {
	return f.each(func(v *Validator, _ K, val V) { rules(v, val) })
}

// Entries runs rules on every entry, at the path of the entry.
func (f MapField[K, V]) Entries(rules func(v *Validator, k K, val V)) MapField[K, V] {
	return f.each(rules)
}

func (f MapField[K, V]) each(rules func(v *Validator, k K, val V)) MapField[K, V] {
	if f.skip() {
		return f
	}
	v := f.v
	if f.name != "" {
		v.push(Key(f.name))
	}
	depth, from := len(v.stack), len(v.recs)
	for k, val := range f.m {
		v.push(Key(keyString(k)))
		rules(v, k, val)
		v.pop()
	}
	v.sortFrom(from, depth)
	if f.name != "" {
		v.pop()
	}
	return f
}

func keyString[K comparable](k K) string {
	switch x := any(k).(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return formatKey(k)
}

// formatKey is the slow path of keyString, apart so that boxing k for fmt
// does not make the fast path allocate.
func formatKey[K comparable](k K) string { return fmt.Sprint(k) }

// Presence names a member and says whether it was given, for the rules
// across members ([Validator.ExactlyOne] and its kin).
type Presence struct {
	Name    string
	Present bool
}

// Has builds a [Presence].
func Has(name string, present bool) Presence { return Presence{Name: name, Present: present} }

// ExactlyOne fails with [CodeExactlyOne] at the current object unless
// exactly one of members is present: "give an email or a phone, not both".
func (v *Validator) ExactlyOne(members ...Presence) bool {
	if countPresent(members) == 1 {
		return true
	}
	v.Report("", CodeExactlyOne, msgExactlyOne, Param{"fields", presenceNames(members)})
	return false
}

// AtLeastOne fails with [CodeAtLeastOne] unless one or more of members is
// present.
func (v *Validator) AtLeastOne(members ...Presence) bool {
	if countPresent(members) >= 1 {
		return true
	}
	v.Report("", CodeAtLeastOne, msgAtLeastOne, Param{"fields", presenceNames(members)})
	return false
}

// MutuallyExclusive fails with [CodeMutuallyExclusive] when more than one
// of members is present.
func (v *Validator) MutuallyExclusive(members ...Presence) bool {
	if countPresent(members) <= 1 {
		return true
	}
	v.Report("", CodeMutuallyExclusive, msgMutuallyExclusive, Param{"fields", presenceNames(members)})
	return false
}

func countPresent(members []Presence) int {
	n := 0
	for _, m := range members {
		if m.Present {
			n++
		}
	}
	return n
}

func presenceNames(members []Presence) []string {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Name
	}
	return names
}
