package txn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// AnyVersion, passed as the expected version, skips the version check: the
// update applies to whatever version is current (and still increments it).
// Pass it when a client sent "If-Match: *" (httpapi.VersionFromIfMatch
// reports that as any version).
const AnyVersion int64 = -1

// VersionedTable configures a [Versioned].
type VersionedTable struct {
	// Schema qualifies the table; empty means the search_path.
	Schema string
	// Table is the table name; required.
	Table string
	// IDColumn is the key column; empty means "id".
	IDColumn string
	// VersionColumn is the integer version column; empty means "version".
	// It should be NOT NULL, start at 0 or 1, and be changed only through
	// [Versioned].
	VersionColumn string
}

// Versioned performs optimistic concurrency control with a version column:
// each change states the version it was based on, succeeds only if the row
// still has it, and increments it. It is safe for concurrent use.
//
// All identifiers are quoted, so they are matched exactly (case included)
// and are never interpreted as SQL.
type Versioned struct {
	table   string // quoted, possibly schema-qualified
	id      string // quoted
	version string // quoted
}

// NewVersioned validates t and returns a Versioned, or an error wrapping
// [ErrInvalidConfig].
func NewVersioned(t VersionedTable) (*Versioned, error) {
	if t.Table == "" {
		return nil, fmt.Errorf("%w: empty table name", ErrInvalidConfig)
	}
	if t.IDColumn == "" {
		t.IDColumn = "id"
	}
	if t.VersionColumn == "" {
		t.VersionColumn = "version"
	}
	if t.IDColumn == t.VersionColumn {
		return nil, fmt.Errorf("%w: id and version columns are both %q", ErrInvalidConfig, t.IDColumn)
	}
	ident := pgx.Identifier{t.Table}
	if t.Schema != "" {
		ident = pgx.Identifier{t.Schema, t.Table}
	}
	return &Versioned{
		table:   ident.Sanitize(),
		id:      pgx.Identifier{t.IDColumn}.Sanitize(),
		version: pgx.Identifier{t.VersionColumn}.Sanitize(),
	}, nil
}

// Assignment sets one column in [Versioned.Update].
type Assignment struct {
	Column string
	Value  any
}

// Set returns an Assignment of value to column.
func Set(column string, value any) Assignment { return Assignment{Column: column, Value: value} }

// Update sets the assigned columns of the row with key id, provided its
// version is still version (or anything, with [AnyVersion]), increments the
// version, and returns the new version. It returns an error wrapping
// [ErrNotFound] when no row has key id, and [ErrConflict] when the row
// exists with another version. The check and the change are one statement,
// so no other writer can slip in between.
//
// Under READ COMMITTED a concurrent writer that commits first makes this
// statement see the new version and report [ErrConflict]; a row deleted
// concurrently also reports [ErrConflict], since this statement's snapshot
// still saw it.
func (v *Versioned) Update(ctx context.Context, q Querier, id any, version int64, set ...Assignment) (int64, error) {
	if version < 0 && version != AnyVersion {
		return 0, fmt.Errorf("%w: negative version %d", ErrInvalidConfig, version)
	}
	var b strings.Builder
	b.WriteString("WITH u AS (UPDATE ")
	b.WriteString(v.table)
	b.WriteString(" SET ")
	args := make([]any, 2, 2+len(set))
	args[0], args[1] = id, version
	for _, a := range set {
		if a.Column == "" {
			return 0, fmt.Errorf("%w: empty column name", ErrInvalidConfig)
		}
		col := pgx.Identifier{a.Column}.Sanitize()
		if col == v.version || col == v.id {
			return 0, fmt.Errorf("%w: Update cannot assign the key or version column %s", ErrInvalidConfig, col)
		}
		args = append(args, a.Value)
		b.WriteString(col)
		b.WriteString(" = $")
		b.WriteString(strconv.Itoa(len(args)))
		b.WriteString(", ")
	}
	fmt.Fprintf(&b, "%[1]s = %[1]s + 1 WHERE %[2]s = $1 AND ($2::bigint < 0 OR %[1]s = $2) RETURNING %[1]s)"+
		" SELECT (SELECT %[1]s FROM u), EXISTS (SELECT 1 FROM %[3]s WHERE %[2]s = $1)", v.version, v.id, v.table)
	var next *int64
	var exists bool
	if err := q.QueryRow(ctx, b.String(), args...).Scan(&next, &exists); err != nil {
		return 0, markLocked(err)
	}
	return v.outcome(next, exists, id, version)
}

// Delete deletes the row with key id, provided its version is still
// version (or anything, with [AnyVersion]). It returns an error wrapping
// [ErrNotFound] or [ErrConflict] as [Versioned.Update] does.
func (v *Versioned) Delete(ctx context.Context, q Querier, id any, version int64) error {
	if version < 0 && version != AnyVersion {
		return fmt.Errorf("%w: negative version %d", ErrInvalidConfig, version)
	}
	query := fmt.Sprintf("WITH d AS (DELETE FROM %[3]s WHERE %[2]s = $1 AND ($2::bigint < 0 OR %[1]s = $2) RETURNING %[1]s)"+
		" SELECT (SELECT %[1]s FROM d), EXISTS (SELECT 1 FROM %[3]s WHERE %[2]s = $1)", v.version, v.id, v.table)
	var deleted *int64
	var exists bool
	if err := q.QueryRow(ctx, query, id, version).Scan(&deleted, &exists); err != nil {
		return markLocked(err)
	}
	_, err := v.outcome(deleted, exists, id, version)
	return err
}

// Version returns the current version of the row with key id, or an error
// wrapping [ErrNotFound], for serving as an ETag.
func (v *Versioned) Version(ctx context.Context, q Querier, id any) (int64, error) {
	var version int64
	err := q.QueryRow(ctx, "SELECT "+v.version+" FROM "+v.table+" WHERE "+v.id+" = $1", id).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s %v", ErrNotFound, v.table, id)
	}
	return version, err
}

func (v *Versioned) outcome(changed *int64, exists bool, id any, version int64) (int64, error) {
	switch {
	case changed != nil:
		return *changed, nil
	case !exists:
		return 0, fmt.Errorf("%w: %s %v", ErrNotFound, v.table, id)
	default:
		return 0, fmt.Errorf("%w: %s %v is no longer at version %d", ErrConflict, v.table, id, version)
	}
}
