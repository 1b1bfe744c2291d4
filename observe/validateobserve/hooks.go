package validateobserve

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/validate"
)

const attrValidateReason = attribute.Key("bedrock.validate.reason")

// Hooks returns hooks that count what a validate.Checker refuses.
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
func Hooks(mp metric.MeterProvider) (validate.Hooks, error) {
	b := otelhook.New(mp, "validateobserve")
	invalid := b.Counter("bedrock.validate.invalid", "{value}", "Values that broke validation rules.")
	decodeErrors := b.Counter("bedrock.validate.decode_errors", "{request}", "Request bodies refused by the decoder, by reason.")
	if err := b.Check("validate"); err != nil {
		return validate.Hooks{}, err
	}
	byReason := otelhook.NewClassifier(attrValidateReason, "_OTHER", []otelhook.ErrorClass{
		{Err: validate.ErrUnsupportedMediaType, Reason: "unsupported_media_type"},
		{Err: validate.ErrBodyTooLarge, Reason: "body_too_large"},
		{Err: validate.ErrMalformedJSON, Reason: "malformed_json"},
		{Err: validate.ErrTooDeep, Reason: "too_deep"},
		{Err: validate.ErrSchemaMismatch, Reason: "schema_mismatch"},
		{Err: validate.ErrReadBody, Reason: "read_body"},
	})
	plain := otelhook.OptsOf()
	return validate.Hooks{
		OnInvalid: func(*validate.Errors) { invalid.Add(context.Background(), 1, plain.Add...) },
		OnDecodeError: func(e *validate.DecodeError) {
			// The sentinel is the reason; classifying it, not e, spares
			// the slice DecodeError.Unwrap allocates per errors.Is (this
			// path is one an attacker drives).
			var reason error = e
			if e != nil && e.Err != nil {
				reason = e.Err
			}
			decodeErrors.Add(context.Background(), 1, byReason.Of(reason).Add...)
		},
	}, nil
}
