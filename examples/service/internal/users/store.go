package users

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bedrock-go/bedrock/txn"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// User is an account.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"-"`
}

// Store holds accounts.
type Store struct{ db txn.Querier }

// NewStore returns the repository over db; it joins the transaction carried
// by a context when there is one.
func NewStore(db txn.Querier) *Store { return &Store{db: db} }

// Create inserts u (ID and CreatedAt are set from the database). An email
// already taken is store.ErrDuplicate.
func (s *Store) Create(ctx context.Context, u *User) error {
	err := txn.QuerierFrom(ctx, s.db).QueryRow(ctx,
		`INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)
		 RETURNING id::text, created_at`, u.Email, u.Name, u.PasswordHash, u.Role).Scan(&u.ID, &u.CreatedAt)
	if store.IsUniqueViolation(err) {
		return store.ErrDuplicate
	}
	return err
}

// ByEmail returns the user with email (already lower-cased).
func (s *Store) ByEmail(ctx context.Context, email string) (User, error) {
	return s.one(ctx, `WHERE email = $1`, email)
}

// ByID returns the user with id; an id that is not a uuid is store.ErrNotFound.
func (s *Store) ByID(ctx context.Context, id string) (User, error) {
	uid, err := store.ParseUserID(id)
	if err != nil {
		return User{}, err
	}
	return s.one(ctx, `WHERE id = $1`, uid)
}

// SetPasswordHash replaces a user's hash, after a rehash on login. A user
// that does not exist is store.ErrNotFound.
func (s *Store) SetPasswordHash(ctx context.Context, id, hash string) error {
	uid, err := store.ParseUserID(id)
	if err != nil {
		return err
	}
	tag, err := txn.QuerierFrom(ctx, s.db).Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, uid, hash)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}

// ChangeRole sets the role of user id to role if it is still from, and
// reports whether it was: a role changed meanwhile by someone else is never
// overwritten unseen.
func (s *Store) ChangeRole(ctx context.Context, id, from, role string) (bool, error) {
	uid, err := store.ParseUserID(id)
	if err != nil {
		return false, nil // no such user: nothing changed
	}
	tag, err := txn.QuerierFrom(ctx, s.db).Exec(ctx, `UPDATE users SET role = $3 WHERE id = $1 AND role = $2`, uid, from, role)
	return tag.RowsAffected() == 1, err
}

func (s *Store) one(ctx context.Context, where string, arg any) (User, error) {
	var u User
	err := txn.QuerierFrom(ctx, s.db).QueryRow(ctx,
		`SELECT id::text, email, name, role, created_at, password_hash FROM users `+where, arg).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, store.ErrNotFound
	}
	return u, err
}
