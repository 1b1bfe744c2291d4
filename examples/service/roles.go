package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
	"github.com/bedrock-go/bedrock/examples/service/internal/users"
)

const usage = `usage:
  service                           serve; configured by environment variables (README.md)
  service grant-role EMAIL ROLE     give the account with EMAIL a role (customer or admin)
  service revoke-role EMAIL ROLE    take a role back; the account stays a customer
The role commands use the server's DATABASE_URL.`

// command runs the subcommand named by args[0], reporting to out. Roles
// are granted only here, by whoever can reach the database, never through
// the API: no request, however crafted, can make an account an admin.
func command(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	switch name := args[0]; name {
	case "grant-role", "revoke-role":
		if len(args) != 3 {
			return fmt.Errorf("%s takes EMAIL ROLE, as in `service %s admin@example.test admin`", name, name)
		}
		email, role := users.CanonicalEmail(args[1]), args[2]
		if !access.IsRole(role) {
			return fmt.Errorf("%s: unknown role %q; the roles are %s and %s", name, role, access.RoleCustomer, access.RoleAdmin)
		}
		pool, err := connectPostgres(ctx, config.DatabaseURL(getenv), 2*time.Second, nil)
		if err != nil {
			return err
		}
		defer pool.Close()
		accounts := users.NewStore(pool)
		if name == "grant-role" {
			err = grantRole(ctx, accounts, out, email, role)
		} else {
			err = revokeRole(ctx, accounts, out, email, role)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case "help", "-h", "-help", "--help":
		_, err := fmt.Fprintln(out, usage)
		return err
	default:
		return fmt.Errorf("unknown command %q; `service help` lists the commands", name)
	}
}

// grantRole gives the account with email (canonical) the role, a known
// one. It is idempotent: an account that already holds the role is left
// alone, and out says so.
func grantRole(ctx context.Context, accounts *users.Store, out io.Writer, email, role string) error {
	u, err := account(ctx, accounts, email)
	if err != nil {
		return err
	}
	if access.HasRole(u.Role, role) {
		_, err := fmt.Fprintf(out, "%s already has the %s role (its role is %s); nothing changed\n", email, role, u.Role)
		return err
	}
	return changeRole(ctx, accounts, out, u, role, fmt.Sprintf("granted %s to %s (its role was %s)", role, email, u.Role))
}

// revokeRole takes role back from the account with email (canonical): the
// account becomes a customer again. Customer itself cannot be revoked; an
// account that does not hold role is left alone, and out says so.
func revokeRole(ctx context.Context, accounts *users.Store, out io.Writer, email, role string) error {
	if role == access.RoleCustomer {
		return fmt.Errorf("every account has the %s role; it cannot be revoked", access.RoleCustomer)
	}
	u, err := account(ctx, accounts, email)
	if err != nil {
		return err
	}
	if u.Role != role {
		_, err := fmt.Fprintf(out, "%s does not have the %s role (its role is %s); nothing changed\n", email, role, u.Role)
		return err
	}
	return changeRole(ctx, accounts, out, u, access.RoleCustomer, fmt.Sprintf("revoked %s from %s (its role is now %s)", role, email, access.RoleCustomer))
}

func account(ctx context.Context, accounts *users.Store, email string) (users.User, error) {
	u, err := accounts.ByEmail(ctx, email)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return u, fmt.Errorf("no account has the email %q; its owner signs up first", email)
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		return u, errors.New("the database has no users table; has the service run against this DATABASE_URL?")
	}
	return u, err
}

func changeRole(ctx context.Context, accounts *users.Store, out io.Writer, u users.User, role, done string) error {
	ok, err := accounts.ChangeRole(ctx, u.ID, u.Role, role)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the role of %s changed meanwhile; run the command again", u.Email)
	}
	_, err = fmt.Fprintf(out, "%s\nAccess tokens issued before keep their old roles until they expire (ACCESS_TOKEN_TTL); a login or a refresh gets the new one.\n", done)
	return err
}
