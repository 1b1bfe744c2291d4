package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inCI reports whether the CI environment variable is set (to anything but
// "", "0" or "false"), where missing servers fail the test.
func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

// TestFaults_Short is the short run (3 s per fault) of the harness: its
// own Redis, NATS and PostgreSQL on private ports, the service built and
// run against them, each server SIGKILLed and restarted and the service
// SIGTERMed under load. It fails when an invariant breaks (a 201 without
// its order, an order without its 201, an event lost or applied twice, an
// outbox not drained); a recovery over the 2 s target is logged, not
// failed, since a busy machine may miss it.
func TestFaults_Short(t *testing.T) {
	bin, err := FindBinaries()
	if err != nil {
		if inCI() {
			t.Fatalf("CI is set: %v", err)
		}
		t.Skip(err)
	}
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Duration: 3 * time.Second, Orderers: 2, Readers: 1, Binaries: bin, Log: log})
	var table strings.Builder
	if rep != nil {
		rep.Table(&table)
	}
	t.Logf("\n%s\n%s", table.String(), logs.String())
	require.NoError(t, err)
	require.Len(t, rep.Phases, 5)
	for _, p := range rep.Phases {
		assert.True(t, p.Held(), "%s broke an invariant: %+v (logs in %s)", p.Fault, p, rep.Dir)
		assert.Positive(t, p.OrdersOK, "%s: no order succeeded", p.Fault)
		if p.Fault != "none" && (p.Recovery < 0 || p.Recovery > RecoveryTarget) {
			t.Logf("%s: recovery %s misses the %s target", p.Fault, p.Recovery, RecoveryTarget)
		}
	}
}

// TestFindBinaries_Missing: with an empty PATH, a server is found only in
// the fixed directories, and one found nowhere is named with a matchable
// error.
func TestFindBinaries_Missing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	b, err := FindBinaries()
	if err != nil {
		assert.True(t, errors.Is(err, ErrMissingBinary), "%v", err)
		return
	}
	for _, p := range []string{b.Redis, b.NATS, b.InitDB, b.Postgres} {
		assert.True(t, strings.HasPrefix(p, "/usr/sbin/") || strings.HasPrefix(p, "/usr/local/bin/") ||
			strings.HasPrefix(p, "/usr/lib/postgresql/"), "%q was found outside the fixed directories", p)
	}
}

// TestPhaseHeld is the table of what breaks a phase: each invariant alone.
func TestPhaseHeld(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Phase
		held bool
	}{
		{"clean", Phase{OrdersOK: 10, Recovery: 5 * time.Second}, true}, // a slow recovery is a miss, not a break
		{"failed orders", Phase{OrdersFailed: 3, Unfinished: 2}, true},
		{"201 missing", Phase{Missing201: 1}, false},
		{"duplicate", Phase{Duplicates: 1}, false},
		{"lost event", Phase{LostEvents: 1}, false},
		{"counted twice", Phase{DoubleUnits: 2}, false},
		{"outbox left", Phase{OutboxLeft: 1}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.held, tt.p.Held())
			rep := &Report{Phases: []Phase{tt.p}}
			assert.Equal(t, tt.held, rep.Held())
		})
	}
	assert.False(t, (&Report{}).Held(), "a run without phases proves nothing")
}

// TestReportTable marks recovery misses and leaves the fault-free phase's
// recovery out.
func TestReportTable(t *testing.T) {
	rep := &Report{Phases: []Phase{
		{Fault: "none", OrdersOK: 5, Recovery: -1},
		{Fault: "redis", OrdersOK: 5, Outage: 2 * time.Second, Recovery: 300 * time.Millisecond},
		{Fault: "nats", OrdersOK: 5, Recovery: 3 * time.Second},
		{Fault: "postgres", Recovery: -1, Unfinished: 2, Note: "slow"},
	}}
	var b strings.Builder
	rep.Table(&b)
	out := b.String()
	assert.Contains(t, out, "| none | 5 | 0 | 0 | 0 / 0 | 0 | 0 | 0 | 0 | n/a | n/a |")
	assert.Contains(t, out, "| 2.0 s | 0.30 s |")
	assert.Contains(t, out, "3.00 s (miss)")
	assert.Contains(t, out, "never (miss)")
	assert.Contains(t, out, "0 (+2 unfinished)")
	assert.Contains(t, out, "postgres: slow")
}
