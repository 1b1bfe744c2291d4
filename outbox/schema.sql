-- Schema of the transactional outbox and the inbox. outbox.Migrate applies
-- this file with the table names substituted; users with their own migration
-- tool may apply it as is (default names) or edit the names.

CREATE TABLE IF NOT EXISTS "outbox_events" (
    -- seq orders the events of one aggregate key in commit order: Enqueue
    -- takes a per-key transaction lock before the row draws its seq.
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    key          text        NOT NULL DEFAULT '',
    payload      bytea       NOT NULL,
    headers      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    available_at timestamptz NOT NULL DEFAULT now(),
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    -- 0 pending, 1 published, 2 dead-lettered
    state        smallint    NOT NULL DEFAULT 0,
    published_at timestamptz
);

CREATE INDEX IF NOT EXISTS "outbox_events_pending_idx"
    ON "outbox_events" (seq) WHERE state = 0;

-- Open (not yet published) events per key: the ordering check probes it.
CREATE INDEX IF NOT EXISTS "outbox_events_key_open_idx"
    ON "outbox_events" (key, seq) WHERE state <> 1 AND key <> '';

CREATE INDEX IF NOT EXISTS "outbox_events_published_idx"
    ON "outbox_events" (published_at) WHERE state = 1;

CREATE TABLE IF NOT EXISTS "outbox_inbox" (
    message_id   text        PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS "outbox_inbox_processed_idx"
    ON "outbox_inbox" (processed_at);
