// Command faults is the fault-injection harness of the reference service
// (examples/service, issue 23). It starts its own Redis (with AOF), NATS
// (JetStream) and PostgreSQL on private ports, builds the service and runs
// it against them, and drives a steady load of product reads and orders:
// each order has an Idempotency-Key of its own, retried with the same key
// until a final answer. Under that load it SIGKILLs and restarts each
// server in turn, and SIGTERMs the service and starts it again. After
// each fault it waits for the events to drain and checks the invariants:
//
//   - every order answered 201 exists in the database;
//   - no order exists that no 201 announced (a duplicate), save those of
//     clients that never got a final answer, which the table counts;
//   - every order's event was consumed exactly once (the inbox holds one
//     row per order, units_sold equals the ordered quantities, the outbox
//     is drained, the NATS stream holds every event);
//
// and measures the recovery: from the restore until the first 201 of an
// order sent after it (target: 2 s).
//
//	go run ./examples/faults                 # 30 s per fault
//	go run ./examples/faults -duration 4s    # the short run of .ci/run
//
// It prints a Markdown table and exits 1 when an invariant broke, 2 when
// it could not run. A missed recovery target is reported, not failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func main() {
	var opt Options
	flag.DurationVar(&opt.Duration, "duration", 30*time.Second, "length of each fault's phase (at least 3s): a third before the fault, a third down, the rest after the restore")
	flag.DurationVar(&opt.Settle, "settle", 60*time.Second, "bound on the wait for events to drain after each phase")
	flag.IntVar(&opt.Orderers, "orderers", 4, "concurrent clients placing orders")
	flag.IntVar(&opt.Readers, "readers", 2, "concurrent clients reading products")
	flag.StringVar(&opt.Dir, "dir", "", "directory for the servers' data and logs (default: a temporary one, removed after a run that held)")
	flag.StringVar(&opt.Service, "service", "", "service binary (default: built from ./examples/service)")
	quiet := flag.Bool("q", false, "no progress lines")
	flag.Parse()
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelError
	}
	opt.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rep, err := Run(ctx, opt)
	o := opt.withDefaults()
	fmt.Printf("Fault injection, %s per fault, %d order and %d read clients; %s, %s/%s, %d CPUs; %s\n\n",
		o.Duration, o.Orderers, o.Readers, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), start.UTC().Format(time.RFC3339))
	if rep != nil {
		rep.Table(os.Stdout)
	}
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "faults:", err)
		if rep != nil && rep.Dir != "" {
			fmt.Fprintln(os.Stderr, "faults: logs in", rep.Dir)
		}
		if errors.Is(err, ErrMissingBinary) {
			os.Exit(2)
		}
		os.Exit(1)
	case !rep.Held():
		fmt.Fprintln(os.Stderr, "faults: an invariant broke; logs in", rep.Dir)
		os.Exit(1)
	}
}
