package observe

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/pagination"
)

const attrCursorReason = attribute.Key("bedrock.pagination.reason")

// PaginationHooks returns hooks that count the cursors a pagination.Pager
// refuses, as bedrock.pagination.cursor_rejections ({cursor}, counter)
// with bedrock.pagination.reason: malformed, unknown_key, signature (a
// forged or corrupted cursor), mismatch (a cursor of another query),
// expired or _OTHER. A rise in signature is worth an alert; expired and
// unknown_key follow TTLs and key rotation. A nil mp means the global
// provider. It fails only if the instrument cannot be created.
func PaginationHooks(mp metric.MeterProvider) (*pagination.Hooks, error) {
	b := newInstruments(mp)
	rejections := b.counter("bedrock.pagination.cursor_rejections", "{cursor}", "Page cursors refused, by reason.")
	if err := b.check("pagination"); err != nil {
		return nil, err
	}
	byReason := newClassifier(attrCursorReason, "_OTHER", []errorClass{
		{pagination.ErrCursorMalformed, "malformed"},
		{pagination.ErrCursorUnknownKey, "unknown_key"},
		{pagination.ErrCursorSignature, "signature"},
		{pagination.ErrCursorMismatch, "mismatch"},
		{pagination.ErrCursorExpired, "expired"},
	})
	return &pagination.Hooks{
		CursorRejected: func(e *pagination.CursorError) {
			rejections.Add(context.Background(), 1, byReason.of(e.Reason).add...)
		},
	}, nil
}
