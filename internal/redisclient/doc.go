// Package redisclient holds the one rule every Redis-backed package of
// Bedrock applies to the go-redis client it is given, so that the rule and
// its message are the same everywhere.
package redisclient
