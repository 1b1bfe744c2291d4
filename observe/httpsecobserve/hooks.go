package httpsecobserve

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/internal/otelhook"
)

const (
	attrHTTPSecReason       = attribute.Key("bedrock.httpsec.reason")
	attrHTTPSecAddressClass = attribute.Key("bedrock.httpsec.address_class")
	attrHTTPSecResult       = attribute.Key("bedrock.httpsec.result")
)

// Hooks returns hooks that count what httpsec refuses and reloads:
//
//   - bedrock.httpsec.rejections ({request}, counter): requests refused
//     by the middleware, with bedrock.httpsec.reason:
//     origin_not_allowed, method_not_allowed, header_not_allowed,
//     body_too_large, cross_origin_request, host_not_allowed or _OTHER.
//   - bedrock.httpsec.outbound.rejections ({request}, counter): what an
//     Outbound refused, with bedrock.httpsec.reason: scheme_not_allowed,
//     destination_not_allowed, port_not_allowed, address_not_allowed,
//     numeric_host, too_many_redirects, response_too_large or _OTHER,
//     and, for address_not_allowed and numeric_host,
//     bedrock.httpsec.address_class (loopback, private, link_local, ...).
//   - bedrock.httpsec.tls.reloads ({reload}, counter): certificate
//     reloads of a ServerTLS, with bedrock.httpsec.result ok or error.
//
// Origins, hosts, URLs and addresses are never recorded: they come from
// clients and users. One Hooks value can be shared by everything in
// httpsec. A nil mp means the global provider. It fails only if an
// instrument cannot be created.
func Hooks(mp metric.MeterProvider) (httpsec.Hooks, error) {
	b := otelhook.New(mp, "httpsecobserve")
	rejections := b.Counter("bedrock.httpsec.rejections", "{request}", "Requests refused by the HTTP security middleware, by reason.")
	outbound := b.Counter("bedrock.httpsec.outbound.rejections", "{request}", "Outbound requests, connections and responses refused, by reason.")
	reloads := b.Counter("bedrock.httpsec.tls.reloads", "{reload}", "Server certificate reloads, by result.")
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
	byOutbound := newOutboundSets()
	reloadOK := otelhook.OptsOf(attrHTTPSecResult.String("ok"))
	reloadErr := otelhook.OptsOf(attrHTTPSecResult.String("error"))
	return httpsec.Hooks{
		OnReject: func(r *http.Request, err error) {
			rejections.Add(r.Context(), 1, byReason.Of(err).Add...)
		},
		OnOutboundReject: func(ctx context.Context, err *httpsec.OutboundError) {
			outbound.Add(ctx, 1, byOutbound.of(err).Add...)
		},
		OnCertReload: func(*x509.Certificate) {
			reloads.Add(context.Background(), 1, reloadOK.Add...)
		},
		OnCertReloadError: func(error) {
			reloads.Add(context.Background(), 1, reloadErr.Add...)
		},
	}, nil
}

// outboundSets holds one attribute set per reason and, for the reasons
// about an address, per address class, all built up front.
type outboundSets struct {
	reasons []otelhook.ErrorClass
	plain   []otelhook.Opts                       // by reason index, the last one _OTHER
	byClass [][httpsec.Reserved + 1]otelhook.Opts // by reason index, for address reasons
}

func newOutboundSets() *outboundSets {
	s := &outboundSets{reasons: []otelhook.ErrorClass{
		{Err: httpsec.ErrSchemeNotAllowed, Reason: "scheme_not_allowed"},
		{Err: httpsec.ErrDestinationNotAllowed, Reason: "destination_not_allowed"},
		{Err: httpsec.ErrPortNotAllowed, Reason: "port_not_allowed"},
		{Err: httpsec.ErrAddressNotAllowed, Reason: "address_not_allowed"},
		{Err: httpsec.ErrNumericHost, Reason: "numeric_host"},
		{Err: httpsec.ErrTooManyRedirects, Reason: "too_many_redirects"},
		{Err: httpsec.ErrResponseTooLarge, Reason: "response_too_large"},
	}}
	names := make([]string, 0, len(s.reasons)+1)
	for _, r := range s.reasons {
		names = append(names, r.Reason)
	}
	names = append(names, "_OTHER")
	s.plain = make([]otelhook.Opts, len(names))
	s.byClass = make([][httpsec.Reserved + 1]otelhook.Opts, len(names))
	for i, name := range names {
		s.plain[i] = otelhook.OptsOf(attrHTTPSecReason.String(name))
		for c := httpsec.Public; c <= httpsec.Reserved; c++ {
			s.byClass[i][c] = otelhook.OptsOf(attrHTTPSecReason.String(name), attrHTTPSecAddressClass.String(className(c)))
		}
	}
	return s
}

// className is the class as an attribute value: "link_local", "shared".
func className(c httpsec.AddrClass) string {
	name, _, _ := strings.Cut(c.String(), " ")
	return strings.ReplaceAll(name, "-", "_")
}

func (s *outboundSets) of(err *httpsec.OutboundError) otelhook.Opts {
	i := len(s.reasons)
	for j := range s.reasons {
		if err.Err == s.reasons[j].Err {
			i = j
			break
		}
	}
	if err.Addr.IsValid() && err.Class <= httpsec.Reserved && (err.Err == httpsec.ErrAddressNotAllowed || err.Err == httpsec.ErrNumericHost) {
		return s.byClass[i][err.Class]
	}
	return s.plain[i]
}
