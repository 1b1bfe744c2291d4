// Package natsjsobserve turns the connection hooks of
// [github.com/bedrock-go/bedrock/outbox/natsjs] into OpenTelemetry metrics
// and log lines, so that a NATS outage is counted and logged instead of
// silent:
//
//	hooks, err := natsjsobserve.ConnHooks(mp, "events")
//	hooks = natsjsobserve.Logged(hooks, log, "events")
//	opts, err := natsjs.ConnOptions(natsjs.ConnConfig{Hooks: hooks})
//	nc, err := nats.Connect(url, opts...)
//
// It compiles nats.go and pgx because natsjs and outbox do; a service that
// uses natsjs has them already. Like every adapter under observe/, it
// builds its instruments and attribute sets once, so a hook call allocates
// nothing, and a nil meter provider means the global one.
package natsjsobserve
