package observe

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/crypto"
)

// Attribute keys of the crypto adapters.
const (
	attrKeyRing     = attribute.Key("bedrock.crypto.keyring")
	attrCryptoOp    = attribute.Key("bedrock.crypto.operation")
	attrCryptoError = attribute.Key("bedrock.crypto.reason")
)

// KeyRingHooks returns hooks that record the events of the key ring called
// name. Key ids and ciphertexts are never recorded. A nil mp means the
// global provider.
//
// Metrics:
//   - bedrock.crypto.keyring.rotations ({rotation}, counter): new primary
//     keys installed.
//   - bedrock.crypto.open_failures ({message}, counter): ciphertexts
//     refused, with bedrock.crypto.reason: decrypt (authentication
//     failed: tampering or the wrong key), format, unknown_key,
//     key_retired, too_large or _OTHER.
//
// It fails only if the instruments cannot be created.
func KeyRingHooks(mp metric.MeterProvider, name string) (crypto.KeyRingHooks, error) {
	b := newInstruments(mp)
	rotations := b.counter("bedrock.crypto.keyring.rotations", "{rotation}", "Primary keys installed in a key ring.")
	failures := b.counter("bedrock.crypto.open_failures", "{message}", "Ciphertexts refused, by reason.")
	if err := b.check("key ring"); err != nil {
		return crypto.KeyRingHooks{}, err
	}
	n := attrKeyRing.String(name)
	plain := optsOf(n)
	byReason := newClassifier(attrCryptoError, "_OTHER", []errorClass{
		{crypto.ErrDecrypt, "decrypt"},
		{crypto.ErrFormat, "format"},
		{crypto.ErrUnknownKey, "unknown_key"},
		{crypto.ErrKeyRetired, "key_retired"},
		{crypto.ErrTooLarge, "too_large"},
	}, n)
	return crypto.KeyRingHooks{
		OnRotate: func(_, _ crypto.KeyID) { rotations.Add(context.Background(), 1, plain.add...) },
		OnOpenFailure: func(err error) {
			failures.Add(context.Background(), 1, byReason.of(err).add...)
		},
	}, nil
}

// EnvelopeHooks returns hooks that record the calls an Envelope makes to
// its KeyWrapper (usually a KMS, billed and rate limited per call) and how
// often its data-key cache spares one. A nil mp means the global provider.
//
// Metrics:
//   - bedrock.crypto.envelope.kms_calls ({call}, counter): with
//     bedrock.crypto.operation ("wrap" or "unwrap") and error.type:
//     canceled, deadline_exceeded or _OTHER, absent on success.
//   - bedrock.crypto.envelope.cache_hits ({hit}, counter): with
//     bedrock.crypto.operation ("seal" or "open").
//
// It fails only if the instruments cannot be created.
func EnvelopeHooks(mp metric.MeterProvider) (crypto.EnvelopeHooks, error) {
	b := newInstruments(mp)
	calls := b.counter("bedrock.crypto.envelope.kms_calls", "{call}", "Key wrapper calls, by operation and outcome.")
	hits := b.counter("bedrock.crypto.envelope.cache_hits", "{hit}", "Data keys reused from the envelope's cache.")
	if err := b.check("envelope"); err != nil {
		return crypto.EnvelopeHooks{}, err
	}
	wrap, unwrap := attrCryptoOp.String("wrap"), attrCryptoOp.String("unwrap")
	wrapOK, unwrapOK := optsOf(wrap), optsOf(unwrap)
	wrapErr := newClassifier(attrErrorType, "_OTHER", withContextClasses(), wrap)
	unwrapErr := newClassifier(attrErrorType, "_OTHER", withContextClasses(), unwrap)
	seal, open := optsOf(attrCryptoOp.String("seal")), optsOf(attrCryptoOp.String("open"))
	return crypto.EnvelopeHooks{
		OnWrap: func(err error) {
			o := wrapOK
			if err != nil {
				o = wrapErr.of(err)
			}
			calls.Add(context.Background(), 1, o.add...)
		},
		OnUnwrap: func(err error) {
			o := unwrapOK
			if err != nil {
				o = unwrapErr.of(err)
			}
			calls.Add(context.Background(), 1, o.add...)
		},
		OnCacheHit: func(sealing bool) {
			o := open
			if sealing {
				o = seal
			}
			hits.Add(context.Background(), 1, o.add...)
		},
	}, nil
}
