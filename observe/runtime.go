package observe

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"

	"go.opentelemetry.io/otel/metric"
)

// runtimeSamples are the runtime/metrics read at each collection, in the
// order RuntimeMetrics indexes them.
var runtimeSamples = [...]string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/gomemlimit:bytes",
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/gc/heap/goal:bytes",
	"/sched/goroutines:goroutines",
	"/sched/gomaxprocs:threads",
	"/gc/gogc:percent",
	"/gc/cycles/total:gc-cycles",
}

const (
	rtTotal = iota
	rtReleased
	rtMemLimit
	rtAllocBytes
	rtAllocObjects
	rtGoal
	rtGoroutines
	rtProcs
	rtGOGC
	rtCycles
)

// RuntimeMetrics registers the Go runtime's metrics with mp under the
// OpenTelemetry semantic-convention names, read from runtime/metrics at
// each collection (nothing runs between collections):
//
//   - go.goroutine.count ({goroutine}): live goroutines; a leak shows as
//     a count that never comes back to its baseline.
//   - go.memory.used (By): memory mapped by the runtime, minus what it
//     returned to the system.
//   - go.memory.limit (By): the GOMEMLIMIT soft limit.
//   - go.memory.allocated (By, counter) and go.memory.allocations
//     ({allocation}, counter): heap allocations since start.
//   - go.memory.gc.goal (By): the heap size the next GC aims at.
//   - go.processor.limit ({thread}): GOMAXPROCS.
//   - go.config.gogc (%): the GOGC setting.
//   - go.gc.cycles ({gc_cycle}, counter): completed GC cycles.
//
// [Setup] calls it on the meter provider it builds; call it yourself for a
// provider of your own. Unregister the returned registration to stop. It
// fails only if the instruments cannot be created.
func RuntimeMetrics(mp metric.MeterProvider) (metric.Registration, error) {
	if mp == nil {
		return nil, fmt.Errorf("%w: nil MeterProvider", ErrInvalidConfig)
	}
	m := mp.Meter("github.com/bedrock-go/bedrock/observe/runtime")
	var errs []error
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	upDown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	goroutines := upDown("go.goroutine.count", "{goroutine}", "Count of live goroutines.")
	used := upDown("go.memory.used", "By", "Memory used by the Go runtime.")
	limit := upDown("go.memory.limit", "By", "Go runtime memory limit configured by the user, if a limit exists.")
	allocated := counter("go.memory.allocated", "By", "Memory allocated to the heap by the application.")
	allocations := counter("go.memory.allocations", "{allocation}", "Count of allocations to the heap by the application.")
	goal := upDown("go.memory.gc.goal", "By", "Heap size target for the end of the GC cycle.")
	procs := upDown("go.processor.limit", "{thread}", "The number of OS threads that can execute user-level Go code simultaneously.")
	gogc := gauge("go.config.gogc", "%", "Heap size target percentage configured by the user, otherwise 100.")
	cycles := counter("go.gc.cycles", "{gc_cycle}", "Completed GC cycles.")
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("observe: runtime metrics: %w", err)
		}
	}
	var mu sync.Mutex // two readers may collect at once
	samples := make([]metrics.Sample, len(runtimeSamples))
	for i, name := range runtimeSamples {
		samples[i].Name = name
	}
	value := func(i int) int64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0 // not supported by this Go version
		}
		return int64(min(samples[i].Value.Uint64(), 1<<63-1))
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		mu.Lock()
		defer mu.Unlock()
		metrics.Read(samples)
		o.ObserveInt64(goroutines, value(rtGoroutines))
		o.ObserveInt64(used, value(rtTotal)-value(rtReleased))
		if l := value(rtMemLimit); l > 0 && l < 1<<63-1 {
			o.ObserveInt64(limit, l)
		}
		o.ObserveInt64(allocated, value(rtAllocBytes))
		o.ObserveInt64(allocations, value(rtAllocObjects))
		o.ObserveInt64(goal, value(rtGoal))
		o.ObserveInt64(procs, value(rtProcs))
		o.ObserveInt64(gogc, value(rtGOGC))
		o.ObserveInt64(cycles, value(rtCycles))
		return nil
	}, goroutines, used, limit, allocated, allocations, goal, procs, gogc, cycles)
	if err != nil {
		return nil, fmt.Errorf("observe: runtime metrics: %w", err)
	}
	return reg, nil
}
