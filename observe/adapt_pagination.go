package observe

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/pagination"
)

const attrCursorReason = attribute.Key("bedrock.pagination.reason")

// PaginationHooks returns hooks that count the cursors a pagination.Pager
// refuses, as bedrock.pagination.cursor_rejections ({cursor}, counter)
// with bedrock.pagination.reason: malformed, unknown_key or retired_key (the
// pager's Signer is a crypto.MACKeyRing that no longer holds, or no longer
// verifies with, the cursor's key), signature (a forged or corrupted
// cursor), mismatch (a cursor of another query), expired or _OTHER. A rise
// in signature is worth an alert; expired, unknown_key and retired_key
// follow TTLs and key rotation. A nil mp means the global provider. It
// fails only if the instrument cannot be created.
func PaginationHooks(mp metric.MeterProvider) (pagination.Hooks, error) {
	b := newInstruments(mp)
	rejections := b.counter("bedrock.pagination.cursor_rejections", "{cursor}", "Page cursors refused, by reason.")
	if err := b.check("pagination"); err != nil {
		return pagination.Hooks{}, err
	}
	byReason := newClassifier(attrCursorReason, "_OTHER", []errorClass{
		{pagination.ErrCursorMalformed, "malformed"},
		{crypto.ErrUnknownKey, "unknown_key"}, // the Signer's own reasons first
		{crypto.ErrKeyRetired, "retired_key"},
		{pagination.ErrCursorSignature, "signature"},
		{pagination.ErrCursorMismatch, "mismatch"},
		{pagination.ErrCursorExpired, "expired"},
	})
	return pagination.Hooks{
		OnCursorRejected: func(e *pagination.CursorError) {
			rejections.Add(context.Background(), 1, byReason.of(e).add...)
		},
	}, nil
}
