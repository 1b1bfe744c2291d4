package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// Errors the domains' queries return, for web.Responder to map to HTTP.
var (
	ErrNotFound  = errors.New("store: not found")
	ErrDuplicate = errors.New("store: already exists")
)

// IsUniqueViolation reports whether err is PostgreSQL refusing a duplicate
// of a unique key.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
