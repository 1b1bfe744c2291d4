package outbox

import (
	"context"
	_ "embed"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bedrock-go/bedrock/internal/pgschema"
)

// Default table names, used when a Config leaves them empty.
const (
	DefaultTable      = "outbox_events"
	DefaultInboxTable = "outbox_inbox"
)

// Schema is the SQL that [Migrate] applies, with the default table names,
// for users who run their own migration tool.
//
//go:embed schema.sql
var Schema string

// Execer is the part of pgx that Migrate needs; *pgxpool.Pool, *pgx.Conn and
// pgx.Tx satisfy it.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// MigrateConfig names the tables Migrate creates. The zero value uses
// [DefaultTable] and [DefaultInboxTable].
type MigrateConfig struct {
	Table      string // outbox table; DefaultTable when empty
	InboxTable string // inbox table; DefaultInboxTable when empty
}

// Migrate creates the outbox and inbox tables and their indexes if they do
// not exist, in the current search_path. It is idempotent, and safe to run
// from many processes at once (instances that start together): it holds a
// transaction-level advisory lock, keyed by the schema, while it applies
// the schema, so concurrent runs apply one after another and the later
// ones find everything in place. (CREATE ... IF NOT EXISTS alone is not
// enough: two sessions both find a table missing and one fails on the
// catalog's unique index.)
func Migrate(ctx context.Context, db Execer, cfg MigrateConfig) error {
	table, err := tableName(cfg.Table, DefaultTable)
	if err != nil {
		return err
	}
	inbox, err := tableName(cfg.InboxTable, DefaultInboxTable)
	if err != nil {
		return err
	}
	// The inbox name is replaced first: the outbox default is not a prefix of
	// it, but the other order would rewrite a custom outbox name's suffix.
	sql := strings.ReplaceAll(Schema, DefaultInboxTable, inbox)
	sql = strings.ReplaceAll(sql, DefaultTable, table)
	// One Exec without arguments is one simple-protocol query: its
	// statements run in one implicit transaction, which the lock spans.
	if _, err := db.Exec(ctx, pgschema.MigrateLock("outbox")+sql); err != nil {
		return fmt.Errorf("outbox: migrate: %w", err)
	}
	return nil
}

// tableName validates a table name: lower-case letters, digits and '_',
// starting with a letter or '_', at most 48 bytes so that index names derived
// from it stay within PostgreSQL's 63-byte identifiers.
func tableName(name, def string) (string, error) {
	if name == "" {
		return def, nil
	}
	if len(name) > 48 {
		return "", fmt.Errorf("%w: table name %q longer than 48 bytes", ErrInvalidConfig, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return "", fmt.Errorf("%w: table name %q must match [a-z_][a-z0-9_]*", ErrInvalidConfig, name)
		}
	}
	return name, nil
}

func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// channel is the LISTEN/NOTIFY channel of an outbox table.
func channel(table string) string { return table + "_wakeup" }

// lockClass is the first key of the per-key advisory locks: a hash of the
// table name, so that two outboxes in one database do not contend.
func lockClass(table string) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte("bedrock-outbox:" + table))
	return int32(h.Sum32())
}
