package observe

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/validate"
)

const attrValidateReason = attribute.Key("bedrock.validate.reason")

// ValidateHooks returns hooks that count what a validate.Checker refuses.
// Field names, values and messages are never recorded. A nil mp means the
// global provider.
//
// Metrics:
//   - bedrock.validate.invalid ({value}, counter): values that broke at
//     least one rule.
//   - bedrock.validate.decode_errors ({request}, counter): bodies
//     DecodeJSON refused, with bedrock.validate.reason:
//     unsupported_media_type, body_too_large, malformed_json, too_deep,
//     schema_mismatch, read_body or _OTHER.
//
// It fails only if the instruments cannot be created.
func ValidateHooks(mp metric.MeterProvider) (validate.Hooks, error) {
	b := newInstruments(mp)
	invalid := b.counter("bedrock.validate.invalid", "{value}", "Values that broke validation rules.")
	decodeErrors := b.counter("bedrock.validate.decode_errors", "{request}", "Request bodies refused by the decoder, by reason.")
	if err := b.check("validate"); err != nil {
		return validate.Hooks{}, err
	}
	byReason := newClassifier(attrValidateReason, "_OTHER", []errorClass{
		{validate.ErrUnsupportedMediaType, "unsupported_media_type"},
		{validate.ErrBodyTooLarge, "body_too_large"},
		{validate.ErrMalformedJSON, "malformed_json"},
		{validate.ErrTooDeep, "too_deep"},
		{validate.ErrSchemaMismatch, "schema_mismatch"},
		{validate.ErrReadBody, "read_body"},
	})
	plain := optsOf()
	return validate.Hooks{
		OnInvalid: func(*validate.Errors) { invalid.Add(context.Background(), 1, plain.add...) },
		OnDecodeError: func(e *validate.DecodeError) {
			decodeErrors.Add(context.Background(), 1, byReason.of(e).add...)
		},
	}, nil
}
