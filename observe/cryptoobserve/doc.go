// Package cryptoobserve turns the hooks of
// [github.com/bedrock-go/bedrock/crypto] into OpenTelemetry metrics: key
// rotations and refused ciphertexts of a key ring, and the key-wrapper
// (KMS) calls of an envelope with its data-key cache hits.
//
//	ringCfg.Hooks, err = cryptoobserve.KeyRingHooks(mp, "pii")
//	envCfg.Hooks, err = cryptoobserve.EnvelopeHooks(mp)
//
// Key ids and ciphertexts are never recorded. Like every adapter under
// observe/, it builds its instruments and attribute sets once, so a hook
// call allocates nothing, and a nil meter provider means the global one
// (which observe.Setup installs).
package cryptoobserve
