// Package redisobserve observes a go-redis client: a readiness check for
// the health endpoint of [github.com/bedrock-go/bedrock/observe], and a
// [Tracer], a go-redis hook that traces commands, pipelines and
// connections with OpenTelemetry spans and a duration histogram per
// command, and logs slow commands through slog.
//
//	health.Register("redis", redisobserve.Check(rdb), observe.CheckOptions{NonCritical: true})
//
//	tracer, err := redisobserve.NewTracer(redisobserve.Config{SlowThreshold: 50 * time.Millisecond})
//	...
//	rdb.AddHook(tracer)
//
// Spans, metrics and logs carry the command's name, never a key or an
// argument: keys hold user ids and e-mail addresses, and their number is
// unbounded.
//
// When Redis is down, the tracer never fails or delays a command: the
// refused dial and the failed command are recorded with error.type
// "connection".
//
// It is a package of its own so that observe's core never compiles
// go-redis: a service that has no Redis does not link its driver because
// it wants health checks.
package redisobserve
