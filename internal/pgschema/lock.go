package pgschema

// MigrateLock returns a statement, ending in ";\n", to put before a
// migration's statements when they are sent as one simple-protocol query
// (one pgx Exec without arguments), whose statements run in one implicit
// transaction. It takes a transaction-level advisory lock on a key derived
// from pkg and the current schema, so concurrent migrations of one package
// in one schema apply one after another and the later ones find everything
// in place: CREATE ... IF NOT EXISTS alone races on the catalog ("duplicate
// key value violates unique constraint pg_type_typname_nsp_index",
// "relation already exists"). The lock ends with the transaction.
func MigrateLock(pkg string) string {
	return "SELECT pg_advisory_xact_lock(hashtextextended('bedrock:" + pkg +
		":migrate:' || coalesce(current_schema(), ''), 0));\n"
}
