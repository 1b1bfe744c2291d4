package observe

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/httpsec"
)

const attrHTTPSecReason = attribute.Key("bedrock.httpsec.reason")

// HTTPSecHooks returns hooks that count the requests refused by the httpsec
// middleware, as bedrock.httpsec.rejections ({request}, counter) with
// bedrock.httpsec.reason: origin_not_allowed, method_not_allowed,
// header_not_allowed, body_too_large, cross_origin_request,
// host_not_allowed or _OTHER. Origins and hosts are never recorded: they
// come from the client. One Hooks value can be shared by every httpsec
// middleware of a service. A nil mp means the global provider. It fails
// only if the instrument cannot be created.
func HTTPSecHooks(mp metric.MeterProvider) (httpsec.Hooks, error) {
	b := newInstruments(mp)
	rejections := b.counter("bedrock.httpsec.rejections", "{request}", "Requests refused by the HTTP security middleware, by reason.")
	if err := b.check("httpsec"); err != nil {
		return httpsec.Hooks{}, err
	}
	byReason := newClassifier(attrHTTPSecReason, "_OTHER", []errorClass{
		{httpsec.ErrOriginNotAllowed, "origin_not_allowed"},
		{httpsec.ErrMethodNotAllowed, "method_not_allowed"},
		{httpsec.ErrHeaderNotAllowed, "header_not_allowed"},
		{httpsec.ErrBodyTooLarge, "body_too_large"},
		{httpsec.ErrCrossOriginRequest, "cross_origin_request"},
		{httpsec.ErrHostNotAllowed, "host_not_allowed"},
	})
	return httpsec.Hooks{
		OnReject: func(r *http.Request, err error) {
			rejections.Add(r.Context(), 1, byReason.of(err).add...)
		},
	}, nil
}
