package pagination

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Nulls says where NULLs sort in a column, as ORDER BY's NULLS FIRST and
// NULLS LAST do. The zero value is PostgreSQL's own default: last for
// ascending columns, first for descending ones.
type Nulls uint8

// Placement of NULLs within a sort column.
const (
	NullsDefault Nulls = iota // LAST when ascending, FIRST when descending
	NullsFirst
	NullsLast
)

// Column is one sort key of a [Spec]. Its name is written into SQL as a
// quoted identifier, exactly as given (quoted identifiers are case-sensitive,
// so use the name as the table defines it, usually lower case).
type Column struct {
	Name  string // column name; required
	Table string // optional qualifier (table name or alias), also quoted
	Desc  bool   // sort descending
	Nulls Nulls  // where NULLs sort; only meaningful when Nullable

	// Nullable declares that the column can hold NULL. Only nullable columns
	// get NULL handling in the predicate; a NULL value for a column not
	// declared nullable is rejected, since the SQL would silently drop it.
	//
	// A nullable first column costs index efficiency in one direction:
	// when the scan meets NULLs after a non-NULL boundary (NULLS LAST going
	// forward, or NULLS FIRST going backward), "a > $1 OR a IS NULL" is not
	// an index range, so PostgreSQL walks the index from its start and
	// filters, and the cost grows with depth. The other direction starts at
	// the boundary. Prefer NOT NULL sort columns for deep listings.
	Nullable bool

	// Unique declares that the column alone identifies a row (a primary
	// key). The last column of a Spec must be unique and not nullable: it is
	// the tie-breaker that makes the order total, without which rows with
	// equal sort values could be skipped or repeated between pages.
	Unique bool
}

// Spec is a total order over rows: sort columns ending with a unique
// tie-breaker. It builds the keyset predicate and ORDER BY clauses. A Spec is
// immutable and safe for concurrent use.
type Spec struct {
	cols        []column
	sameDir     bool   // every column sorts the same way
	anyNullable bool   // some column is nullable
	orderBy     string // forward ORDER BY list
	reverseBy   string // the same order reversed, for previous pages
	fingerprint [32]byte
	rowLen      int // capacity hints for the predicate builders
	expandedLen int
}

type column struct {
	ref       string // quoted, possibly qualified reference
	name      string // as declared, for errors
	desc      bool
	nullsLast bool // resolved from Nulls and Desc
	nullable  bool
}

// maxColumns bounds a Spec; more sort keys than this is a design mistake
// and would make cursors long.
const maxColumns = 16

// NewSpec returns the order given by columns, in priority order. It fails,
// wrapping [ErrInvalidConfig], when there are no columns, a name is empty or
// not valid UTF-8, a column repeats, the last column is not Unique or is
// Nullable, or a Unique column is followed by others (they could never
// decide the order).
func NewSpec(columns ...Column) (*Spec, error) {
	if len(columns) == 0 || len(columns) > maxColumns {
		return nil, fmt.Errorf("%w: a spec needs 1 to %d columns, got %d", ErrInvalidConfig, maxColumns, len(columns))
	}
	s := &Spec{cols: make([]column, len(columns)), sameDir: true}
	seen := make(map[string]bool, len(columns))
	for i, c := range columns {
		if err := checkColumn(c, i == len(columns)-1); err != nil {
			return nil, err
		}
		ref := quoteIdent(c.Name)
		if c.Table != "" {
			ref = quoteIdent(c.Table) + "." + ref
		}
		if seen[ref] {
			return nil, fmt.Errorf("%w: column %s appears twice", ErrInvalidConfig, ref)
		}
		seen[ref] = true
		nullsLast := !c.Desc
		switch c.Nulls {
		case NullsFirst:
			nullsLast = false
		case NullsLast:
			nullsLast = true
		}
		s.cols[i] = column{ref: ref, name: c.Name, desc: c.Desc, nullsLast: nullsLast, nullable: c.Nullable}
		s.sameDir = s.sameDir && c.Desc == columns[0].Desc
		s.anyNullable = s.anyNullable || c.Nullable
	}
	s.orderBy = s.orderList(false)
	s.reverseBy = s.orderList(true)
	s.fingerprint = s.computeFingerprint()
	for _, c := range s.cols {
		s.rowLen += len(c.ref) + 8
		s.expandedLen += 4*len(c.ref) + 48
	}
	return s, nil
}

// MustSpec is like [NewSpec] but panics on error; it is meant for specs
// declared as constants of the program, where an error is a programming
// mistake.
func MustSpec(columns ...Column) *Spec {
	s, err := NewSpec(columns...)
	if err != nil {
		panic(err)
	}
	return s
}

func checkColumn(c Column, last bool) error {
	for _, id := range []string{c.Name, c.Table} {
		if !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
			return fmt.Errorf("%w: column name %q is not valid UTF-8 without NUL", ErrInvalidConfig, id)
		}
	}
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: a column has an empty name", ErrInvalidConfig)
	case c.Nulls > NullsLast:
		return fmt.Errorf("%w: column %q: unknown Nulls value %d", ErrInvalidConfig, c.Name, c.Nulls)
	case last && !c.Unique:
		return fmt.Errorf("%w: the last column %q must be Unique: a tie-breaker is needed for a total order",
			ErrInvalidConfig, c.Name)
	case last && c.Nullable:
		return fmt.Errorf("%w: the tie-breaker column %q must not be Nullable", ErrInvalidConfig, c.Name)
	case !last && c.Unique && !c.Nullable:
		return fmt.Errorf("%w: column %q is Unique, so the columns after it never decide the order; end the spec there",
			ErrInvalidConfig, c.Name)
	}
	return nil
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// orderList writes the ORDER BY list, naming NULLS only where it differs
// from PostgreSQL's default, so that the clause matches a plain index.
func (s *Spec) orderList(reverse bool) string {
	var b strings.Builder
	for i, c := range s.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		desc, nullsLast := c.desc != reverse, c.nullsLast != reverse
		b.WriteString(c.ref)
		if desc {
			b.WriteString(" DESC")
		}
		if c.nullable && nullsLast == desc { // default is LAST for ASC, FIRST for DESC
			if nullsLast {
				b.WriteString(" NULLS LAST")
			} else {
				b.WriteString(" NULLS FIRST")
			}
		}
	}
	return b.String()
}

func (s *Spec) computeFingerprint() [32]byte {
	h := sha256.New()
	h.Write([]byte("bedrock/pagination spec v1\x00"))
	for _, c := range s.cols {
		var flags byte
		if c.desc {
			flags |= 1
		}
		if c.nullsLast {
			flags |= 2
		}
		if c.nullable {
			flags |= 4
		}
		h.Write(binary.AppendUvarint(nil, uint64(len(c.ref))))
		h.Write([]byte(c.ref))
		h.Write([]byte{flags})
	}
	return [32]byte(h.Sum(nil))
}

// OrderBy returns the forward ORDER BY list (without the keywords), for
// example `"created_at" DESC, "id" DESC`.
func (s *Spec) OrderBy() string { return s.orderBy }

// Len returns the number of sort columns.
func (s *Spec) Len() int { return len(s.cols) }

// Fingerprint identifies the order (columns, directions, NULL placement);
// cursors are bound to it, so a cursor issued under one order is refused by
// another.
func (s *Spec) Fingerprint() [32]byte { return s.fingerprint }
