package paginationobserve

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/pagination"
)

const attrCursorReason = attribute.Key("bedrock.pagination.reason")

// Hooks returns hooks that count the cursors a pagination.Pager
// refuses, as bedrock.pagination.cursor_rejections ({cursor}, counter)
// with bedrock.pagination.reason: malformed, unknown_key, signature (a
// forged or corrupted cursor), mismatch (a cursor of another query),
// expired or _OTHER. A rise in signature is worth an alert; expired and
// unknown_key follow TTLs and key rotation. A nil mp means the global
// provider. It fails only if the instrument cannot be created.
func Hooks(mp metric.MeterProvider) (*pagination.Hooks, error) {
	b := otelhook.New(mp, "paginationobserve")
	rejections := b.Counter("bedrock.pagination.cursor_rejections", "{cursor}", "Page cursors refused, by reason.")
	if err := b.Check("pagination"); err != nil {
		return nil, err
	}
	byReason := otelhook.NewClassifier(attrCursorReason, "_OTHER", []otelhook.ErrorClass{
		{Err: pagination.ErrCursorMalformed, Reason: "malformed"},
		{Err: pagination.ErrCursorUnknownKey, Reason: "unknown_key"},
		{Err: pagination.ErrCursorSignature, Reason: "signature"},
		{Err: pagination.ErrCursorMismatch, Reason: "mismatch"},
		{Err: pagination.ErrCursorExpired, Reason: "expired"},
	})
	return &pagination.Hooks{
		CursorRejected: func(e *pagination.CursorError) {
			rejections.Add(context.Background(), 1, byReason.Of(e.Reason).Add...)
		},
	}, nil
}
