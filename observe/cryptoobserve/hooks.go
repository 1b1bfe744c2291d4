package cryptoobserve

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/internal/otelhook"
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
	b := otelhook.New(mp, "cryptoobserve")
	rotations := b.Counter("bedrock.crypto.keyring.rotations", "{rotation}", "Primary keys installed in a key ring.")
	failures := b.Counter("bedrock.crypto.open_failures", "{message}", "Ciphertexts refused, by reason.")
	if err := b.Check("key ring"); err != nil {
		return crypto.KeyRingHooks{}, err
	}
	n := attrKeyRing.String(name)
	plain := otelhook.OptsOf(n)
	byReason := otelhook.NewClassifier(attrCryptoError, "_OTHER", []otelhook.ErrorClass{
		{Err: crypto.ErrDecrypt, Reason: "decrypt"},
		{Err: crypto.ErrFormat, Reason: "format"},
		{Err: crypto.ErrUnknownKey, Reason: "unknown_key"},
		{Err: crypto.ErrKeyRetired, Reason: "key_retired"},
		{Err: crypto.ErrTooLarge, Reason: "too_large"},
	}, n)
	return crypto.KeyRingHooks{
		OnRotate: func(_, _ crypto.KeyID) { rotations.Add(context.Background(), 1, plain.Add...) },
		OnOpenFailure: func(err error) {
			failures.Add(context.Background(), 1, byReason.Of(err).Add...)
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
	b := otelhook.New(mp, "cryptoobserve")
	calls := b.Counter("bedrock.crypto.envelope.kms_calls", "{call}", "Key wrapper calls, by operation and outcome.")
	hits := b.Counter("bedrock.crypto.envelope.cache_hits", "{hit}", "Data keys reused from the envelope's cache.")
	if err := b.Check("envelope"); err != nil {
		return crypto.EnvelopeHooks{}, err
	}
	wrap, unwrap := attrCryptoOp.String("wrap"), attrCryptoOp.String("unwrap")
	wrapOK, unwrapOK := otelhook.OptsOf(wrap), otelhook.OptsOf(unwrap)
	wrapErr := otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(), wrap)
	unwrapErr := otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(), unwrap)
	seal, open := otelhook.OptsOf(attrCryptoOp.String("seal")), otelhook.OptsOf(attrCryptoOp.String("open"))
	return crypto.EnvelopeHooks{
		OnWrap: func(err error) {
			o := wrapOK
			if err != nil {
				o = wrapErr.Of(err)
			}
			calls.Add(context.Background(), 1, o.Add...)
		},
		OnUnwrap: func(err error) {
			o := unwrapOK
			if err != nil {
				o = unwrapErr.Of(err)
			}
			calls.Add(context.Background(), 1, o.Add...)
		},
		OnCacheHit: func(sealing bool) {
			o := open
			if sealing {
				o = seal
			}
			hits.Add(context.Background(), 1, o.Add...)
		},
	}, nil
}
