// Package sessiontest is the conformance suite every [session.Store] runs:
// the rotation rules, reuse detection, the grace window, lifetimes,
// revocation and cleanup, and concurrent rotation of one token.
package sessiontest
