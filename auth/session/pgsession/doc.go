// Package pgsession is a PostgreSQL [session.Store] on pgx.
//
// Rotation is one statement: the UPDATE that marks the old token used only
// matches an unused token of an unrevoked family, and the INSERT of the
// successor is fed by it, so two concurrent rotations of one token cannot
// both succeed (the second waits for the first's row lock, then no longer
// matches).
//
// The schema ships embedded ([Store.Migrate]) and as schema.sql for other
// migration tools. When PostgreSQL is unreachable every method returns the
// driver's error and the session manager fails closed: no refresh succeeds.
package pgsession
