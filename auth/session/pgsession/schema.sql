-- Refresh-token sessions for github.com/bedrock-go/bedrock/auth/session.
-- pgsession.Migrate applies this file (with the configured table names);
-- users of another migration tool can apply it as it is.

CREATE TABLE IF NOT EXISTS session_families (
    id         text        PRIMARY KEY,
    subject    text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX IF NOT EXISTS session_families_subject_idx ON session_families (subject) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS session_families_end_idx ON session_families (LEAST(expires_at, COALESCE(revoked_at, 'infinity')));

CREATE TABLE IF NOT EXISTS session_tokens (
    hash       bytea       PRIMARY KEY CHECK (length(hash) = 32),
    family_id  text        NOT NULL REFERENCES session_families (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    successor  bytea
);

CREATE INDEX IF NOT EXISTS session_tokens_family_idx ON session_tokens (family_id);
