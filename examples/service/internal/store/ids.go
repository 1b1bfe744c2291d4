package store

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// ParseUserID returns a user id in its text form (as in tokens and API
// keys) as a typed uuid. Queries compare typed values, so that PostgreSQL
// finds rows through the primary key and the foreign-key indexes: a
// comparison of id::text with a string cannot use them. An id that cannot
// be a uuid names no user: the error matches ErrNotFound, so that it is
// answered as an absent resource and never reaches the database.
func ParseUserID(id string) (pgtype.UUID, error) {
	u, ok := parseUUID(id)
	if !ok {
		return u, fmt.Errorf("store: user id %q is not a uuid: %w", id, ErrNotFound)
	}
	return u, nil
}

// parseUUID accepts exactly the 8-4-4-4-12 hexadecimal form (either case),
// the form PostgreSQL prints; pgtype's own parser also takes other lengths
// and ignores what stands where the hyphens should be.
func parseUUID(s string) (pgtype.UUID, bool) {
	var u pgtype.UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	var digits [32]byte
	n := 0
	for i := range len(s) {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		digits[n] = s[i]
		n++
	}
	if _, err := hex.Decode(u.Bytes[:], digits[:]); err != nil {
		return u, false
	}
	u.Valid = true
	return u, true
}

// Storable reports whether PostgreSQL accepts s as text: valid UTF-8 without
// NUL. A key from a client that is not can match no row, and PostgreSQL
// would answer the comparison with an error rather than no rows.
func Storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
