// Package redisobserve checks a Redis server for the readiness endpoint of
// [github.com/bedrock-go/bedrock/observe].
//
// It is a package of its own so that observe's core never compiles
// go-redis: a service that has no Redis does not link its driver because
// it wants health checks.
//
//	health.Register("redis", redisobserve.Check(rdb), observe.CheckOptions{NonCritical: true})
package redisobserve
