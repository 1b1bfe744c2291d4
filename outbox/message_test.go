package outbox_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnqueue_RejectsInvalidMessages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		msg   outbox.Message
		field string
	}{
		{"empty topic", outbox.Message{}, "Topic"},
		{"long topic", outbox.Message{Topic: strings.Repeat("t", 1025)}, "Topic"},
		{"long key", outbox.Message{Topic: "t", Key: strings.Repeat("k", 1025)}, "Key"},
		{"bad id", outbox.Message{Topic: "t", ID: "42"}, "ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Validation happens before the transaction is used.
			err := outbox.Enqueue(context.Background(), nil, outbox.Message{Topic: "ok"}, tc.msg)
			require.ErrorIs(t, err, outbox.ErrInvalidMessage)
			var me *outbox.MessageError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, 1, me.Index)
			assert.Equal(t, tc.field, me.Field)
		})
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0190f3a4-5b6c-7d8e-9f01-23456789abcd", true},
		{"0190F3A4-5B6C-7D8E-9F01-23456789ABCD", true},
		{"0190f3a45b6c7d8e9f0123456789abcd", false},
		{"0190f3a4-5b6c-7d8e-9f01-23456789abcg", false},
		{"0190f3a4-5b6c-7d8e-9f01+23456789abcd", false},
		{"", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := outbox.ParseID(tc.in)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, outbox.ErrInvalidID)
			}
		})
	}
}

func TestNewID_IsVersion7AndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := outbox.NewID()
		u, err := outbox.ParseID(id)
		require.NoError(t, err)
		assert.Equal(t, byte(0x70), u[6]&0xf0, "version 7")
		assert.Equal(t, byte(0x80), u[8]&0xc0, "RFC 9562 variant")
		assert.False(t, seen[id])
		seen[id] = true
	}
}

func TestAllocationBudgets(t *testing.T) {
	id := outbox.NewID()
	// The random bytes escape through crypto/rand; the string is the other.
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = outbox.NewID() }), 2.0)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = outbox.ParseID(id) }))
}

func FuzzParseID(f *testing.F) {
	f.Add("0190f3a4-5b6c-7d8e-9f01-23456789abcd")
	f.Add("0190F3A4-5B6C-7D8E-9F01-23456789ABCD")
	f.Add("")
	f.Add("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := outbox.ParseID(s)
		if err != nil {
			return
		}
		// A parsed id formats back to the input, up to case.
		var b strings.Builder
		const hexdigits = "0123456789abcdef"
		for i, c := range u {
			if i == 4 || i == 6 || i == 8 || i == 10 {
				b.WriteByte('-')
			}
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&0xf])
		}
		if !strings.EqualFold(b.String(), s) {
			t.Fatalf("ParseID(%q) = %x, formats as %q", s, u, b.String())
		}
	})
}

func TestNewRelay_RejectsBadConfig(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://127.0.0.1:1/none") // never connects
	require.NoError(t, err)
	defer pool.Close()
	pub := &outbox.MemoryPublisher{}
	for name, cfg := range map[string]outbox.RelayConfig{
		"bad table":         {Table: "Robert'); DROP TABLE students;--"},
		"long table":        {Table: strings.Repeat("t", 49)},
		"negative batch":    {BatchSize: -1},
		"negative attempts": {MaxAttempts: -1},
		"negative retain":   {Retention: -1},
		"unknown mode":      {Mode: 7},
		"max below initial": {RetryInitial: 2e9, RetryMax: 1e9},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := outbox.NewRelay(pool, pub, cfg)
			assert.ErrorIs(t, err, outbox.ErrInvalidConfig)
		})
	}
	_, err = outbox.NewRelay(nil, pub, outbox.RelayConfig{})
	assert.ErrorIs(t, err, outbox.ErrInvalidConfig)
	_, err = outbox.NewWriter(outbox.WriterConfig{Table: "1abc"})
	assert.ErrorIs(t, err, outbox.ErrInvalidConfig)
	_, err = outbox.NewInbox(outbox.InboxConfig{Table: "a-b"})
	assert.ErrorIs(t, err, outbox.ErrInvalidConfig)
	assert.ErrorIs(t, outbox.Migrate(context.Background(), pool, outbox.MigrateConfig{Table: "A"}), outbox.ErrInvalidConfig)
}

func TestCustomTables(t *testing.T) {
	pool := setup(t) // default tables exist too: the custom ones must not touch them
	ctx := t.Context()
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{Table: "billing_events", InboxTable: "billing_inbox"}))
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{Table: "billing_events", InboxTable: "billing_inbox"}), "idempotent")
	w, err := outbox.NewWriter(outbox.WriterConfig{Table: "billing_events"})
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return w.Enqueue(ctx, tx, outbox.Message{Topic: "invoices"})
	}))
	assert.Zero(t, countRows(t, pool, "true"), "the default table is untouched")
	pub := &outbox.MemoryPublisher{}
	drain(t, newRelay(t, pool, pub, outbox.RelayConfig{Table: "billing_events"}))
	assert.Equal(t, 1, pub.Len())

	in, err := outbox.NewInbox(outbox.InboxConfig{Table: "billing_inbox"})
	require.NoError(t, err)
	id := pub.Messages()[0].ID
	runs := 0
	for range 2 {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return in.Process(ctx, tx, id, func(context.Context, pgx.Tx) error { runs++; return nil })
		})
		if err != nil {
			assert.ErrorIs(t, err, outbox.ErrDuplicate)
		}
	}
	assert.Equal(t, 1, runs)
	n, err := in.Cleanup(ctx, pool, 0, 10)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
}

func TestEnqueue_NilTransactionIsAnError(t *testing.T) {
	err := outbox.Enqueue(context.Background(), nil, outbox.Message{Topic: "t"})
	assert.ErrorIs(t, err, outbox.ErrInvalidConfig)
}

// An event written outside the business transaction is the one thing an
// outbox must never allow: Enqueue, Writer.Enqueue and Inbox.Process take a
// pgx.Tx, so passing a pool or a connection does not compile. The test
// applies the compiler's assignability rule to the real pgx types.
func TestTransactionParameters_RefusePoolsAndConnections(t *testing.T) {
	w, err := outbox.NewWriter(outbox.WriterConfig{})
	require.NoError(t, err)
	in, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(t, err)
	params := map[string]reflect.Type{
		"Enqueue":          reflect.TypeOf(outbox.Enqueue).In(1),
		"Writer.Enqueue":   reflect.TypeOf(w.Enqueue).In(1),
		"Inbox.Process":    reflect.TypeOf(in.Process).In(1),
		"Inbox.Process fn": reflect.TypeOf(in.Process).In(3).In(1),
	}
	outside := []reflect.Type{
		reflect.TypeFor[*pgxpool.Pool](),
		reflect.TypeFor[*pgxpool.Conn](),
		reflect.TypeFor[*pgx.Conn](),
	}
	for name, param := range params {
		for _, typ := range outside {
			assert.False(t, typ.AssignableTo(param), "%s accepts a %v: it would write outside a transaction", name, typ)
		}
		assert.True(t, reflect.TypeFor[pgx.Tx]().AssignableTo(param), "%s takes a pgx.Tx", name)
	}
}

func TestInbox_NilTransactionIsAnError(t *testing.T) {
	in, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(t, err)
	err = in.Process(context.Background(), nil, "id", func(context.Context, pgx.Tx) error { return nil })
	assert.ErrorIs(t, err, outbox.ErrInvalidConfig)
}
