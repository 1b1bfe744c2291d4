package paginationobserve

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/pagination"
)

const attrCursorReason = attribute.Key("bedrock.pagination.reason")

// Hooks returns hooks that count the cursors a pagination.Pager
// refuses, as bedrock.pagination.cursor_rejections ({cursor}, counter)
// with bedrock.pagination.reason: malformed, unknown_key or retired_key (the
// pager's Signer is a crypto.MACKeyRing that no longer holds, or no longer
// verifies with, the cursor's key), signature (a forged or corrupted
// cursor), mismatch (a cursor of another query), expired or _OTHER. A rise
// in signature is worth an alert; expired, unknown_key and retired_key
// follow TTLs and key rotation. A nil mp means the global provider. It
// fails only if the instrument cannot be created.
func Hooks(mp metric.MeterProvider) (pagination.Hooks, error) {
	b := otelhook.New(mp, "paginationobserve")
	rejections := b.Counter("bedrock.pagination.cursor_rejections", "{cursor}", "Page cursors refused, by reason.")
	if err := b.Check("pagination"); err != nil {
		return pagination.Hooks{}, err
	}
	byReason := otelhook.NewClassifier(attrCursorReason, "_OTHER", []otelhook.ErrorClass{
		{Err: pagination.ErrCursorMalformed, Reason: "malformed"},
		{Err: crypto.ErrUnknownKey, Reason: "unknown_key"}, // the Signer's own reasons first
		{Err: crypto.ErrKeyRetired, Reason: "retired_key"},
		{Err: pagination.ErrCursorSignature, Reason: "signature"},
		{Err: pagination.ErrCursorMismatch, Reason: "mismatch"},
		{Err: pagination.ErrCursorExpired, Reason: "expired"},
	})
	return pagination.Hooks{
		OnCursorRejected: func(e *pagination.CursorError) {
			// Classify the pagination reason, or the signer's own when it
			// has one: asking errors.Is of the CursorError itself would
			// allocate the slice its Unwrap returns, on every refusal.
			err := e.Reason
			if e.Err != nil && (errors.Is(e.Err, crypto.ErrUnknownKey) || errors.Is(e.Err, crypto.ErrKeyRetired)) {
				err = e.Err
			}
			rejections.Add(context.Background(), 1, byReason.Of(err).Add...)
		},
	}, nil
}
