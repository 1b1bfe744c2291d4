package pagination

import (
	"strconv"
	"strings"
)

// predicate returns the WHERE condition that keeps the rows after the
// boundary values in scan order (at or after them when inclusive), and args
// extended with the non-NULL boundary values, numbered from len(args)+1.
// backward scans the reverse of the spec's order, for previous pages.
//
// When every column sorts the same way and none is nullable the condition is
// a row-value comparison, which PostgreSQL turns into a single index range.
// Otherwise it is the expanded form a > x OR (a = x AND (b < y OR ...)),
// since a row comparison has a single direction and yields NULL, not a
// position, when a NULL is involved. The expanded form is led by a redundant
// bound on the first column where one is valid, so that the planner still
// gets an index range to start from.
func (s *Spec) predicate(values []any, backward, inclusive bool, args []any) (string, []any) {
	first := len(args) + 1
	if s.sameDir && !s.anyNullable {
		return s.rowPredicate(values, backward, inclusive, first), append(args, values...)
	}
	var paramBuf [maxColumns]int
	params := paramBuf[:len(values)] // 0 for NULL values, which take no parameter
	next := first
	for i, v := range values {
		if v != nil {
			params[i] = next
			next++
			args = append(args, v)
		}
	}
	var b strings.Builder
	b.Grow(s.expandedLen)
	b.WriteByte('(')
	s.writeLeadingBound(&b, params[0], backward)
	s.writeExpanded(&b, 0, params, backward, inclusive)
	b.WriteByte(')')
	return b.String(), args
}

func (s *Spec) rowPredicate(values []any, backward, inclusive bool, first int) string {
	op := compareOp(s.cols[0].desc != backward, inclusive)
	var b strings.Builder
	b.Grow(s.rowLen)
	if len(s.cols) == 1 {
		b.WriteString(s.cols[0].ref)
		b.WriteString(op)
		writeParam(&b, first)
		return b.String()
	}
	b.WriteByte('(')
	for i, c := range s.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.ref)
	}
	b.WriteString(")")
	b.WriteString(op)
	b.WriteByte('(')
	for i := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		writeParam(&b, first+i)
	}
	b.WriteByte(')')
	return b.String()
}

func compareOp(desc, inclusive bool) string {
	switch {
	case desc && inclusive:
		return " <= "
	case desc:
		return " < "
	case inclusive:
		return " >= "
	}
	return " > "
}

func writeParam(b *strings.Builder, n int) {
	b.WriteByte('$')
	b.WriteString(strconv.Itoa(n))
}

// writeLeadingBound writes a condition implied by the predicate that an
// index can use as a range start, first >= $1 (ascending scan), followed by
// AND. It is only valid when the boundary's first value is not NULL and NULLs
// of that column, if any, come before the boundary in scan order.
func (s *Spec) writeLeadingBound(b *strings.Builder, param int, backward bool) {
	c := s.cols[0]
	if param == 0 || len(s.cols) == 1 || (c.nullable && c.nullsLast != backward) {
		return
	}
	b.WriteString(c.ref)
	b.WriteString(compareOp(c.desc != backward, true))
	writeParam(b, param)
	b.WriteString(" AND ")
}

// writeExpanded writes the condition that column i and those after it place
// a row after the boundary: after_i OR (equal_i AND rest).
func (s *Spec) writeExpanded(b *strings.Builder, i int, params []int, backward, inclusive bool) {
	c := s.cols[i]
	desc, nullsLast := c.desc != backward, c.nullsLast != backward
	if i == len(s.cols)-1 { // the tie-breaker: unique and NOT NULL
		b.WriteString(c.ref)
		b.WriteString(compareOp(desc, inclusive))
		writeParam(b, params[i])
		return
	}
	// Nothing sorts after a NULL boundary when NULLs sort last.
	hasAfter := params[i] != 0 || !nullsLast
	b.WriteByte('(')
	if hasAfter {
		writeAfter(b, c, params[i], desc, nullsLast)
		b.WriteString(" OR (")
	}
	b.WriteString(c.ref)
	if params[i] == 0 {
		b.WriteString(" IS NULL")
	} else {
		b.WriteString(" = ")
		writeParam(b, params[i])
	}
	b.WriteString(" AND ")
	s.writeExpanded(b, i+1, params, backward, inclusive)
	if hasAfter {
		b.WriteByte(')')
	}
	b.WriteByte(')')
}

// writeAfter writes the condition that a row's value in column c sorts
// strictly after the boundary value ($param, or NULL when param is 0).
func writeAfter(b *strings.Builder, c column, param int, desc, nullsLast bool) {
	if param == 0 {
		b.WriteString(c.ref)
		b.WriteString(" IS NOT NULL")
		return
	}
	orNull := c.nullable && nullsLast
	if orNull {
		b.WriteByte('(')
	}
	b.WriteString(c.ref)
	b.WriteString(compareOp(desc, false))
	writeParam(b, param)
	if orNull {
		b.WriteString(" OR ")
		b.WriteString(c.ref)
		b.WriteString(" IS NULL)")
	}
}
