package httpsecobserve

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/internal/otelhook"
)

const attrHTTPSecReason = attribute.Key("bedrock.httpsec.reason")

// Hooks returns hooks that count the requests refused by the httpsec
// middleware, as bedrock.httpsec.rejections ({request}, counter) with
// bedrock.httpsec.reason: origin_not_allowed, method_not_allowed,
// header_not_allowed, body_too_large, cross_origin_request,
// host_not_allowed or _OTHER. Origins and hosts are never recorded: they
// come from the client. One Hooks value can be shared by every httpsec
// middleware of a service. A nil mp means the global provider. It fails
// only if the instrument cannot be created.
func Hooks(mp metric.MeterProvider) (httpsec.Hooks, error) {
	b := otelhook.New(mp, "httpsecobserve")
	rejections := b.Counter("bedrock.httpsec.rejections", "{request}", "Requests refused by the HTTP security middleware, by reason.")
	if err := b.Check("httpsec"); err != nil {
		return httpsec.Hooks{}, err
	}
	byReason := otelhook.NewClassifier(attrHTTPSecReason, "_OTHER", []otelhook.ErrorClass{
		{Err: httpsec.ErrOriginNotAllowed, Reason: "origin_not_allowed"},
		{Err: httpsec.ErrMethodNotAllowed, Reason: "method_not_allowed"},
		{Err: httpsec.ErrHeaderNotAllowed, Reason: "header_not_allowed"},
		{Err: httpsec.ErrBodyTooLarge, Reason: "body_too_large"},
		{Err: httpsec.ErrCrossOriginRequest, Reason: "cross_origin_request"},
		{Err: httpsec.ErrHostNotAllowed, Reason: "host_not_allowed"},
	})
	return httpsec.Hooks{
		OnReject: func(r *http.Request, err error) {
			rejections.Add(r.Context(), 1, byReason.Of(err).Add...)
		},
	}, nil
}
