package httpsec

import (
	"context"
	"crypto/x509"
	"net/http"
)

// Hooks receives instrumentation callbacks. The zero value disables them
// at no cost. One value can serve every middleware, [Outbound] and
// [ServerTLS] of a service. Callbacks run on the goroutine of the request,
// connection or handshake concerned and must be safe for concurrent use.
type Hooks struct {
	// OnReject is called each time a middleware refuses a request, with an
	// error that matches one of ErrOriginNotAllowed, ErrMethodNotAllowed,
	// ErrHeaderNotAllowed, ErrBodyTooLarge, ErrCrossOriginRequest or
	// ErrHostNotAllowed.
	OnReject func(r *http.Request, err error)
	// OnOutboundReject is called each time an [Outbound] refuses a
	// request, a connection or a response, with the request's context
	// (context.Background() for [Outbound.Control]).
	OnOutboundReject func(ctx context.Context, err *OutboundError)
	// OnCertReload is called when a [ServerTLS] starts serving a new
	// certificate, with its leaf.
	OnCertReload func(leaf *x509.Certificate)
	// OnCertReloadError is called when a [ServerTLS] finds changed
	// certificate or key files it cannot use; it keeps serving the
	// certificate it had. The error is a [*CertificateError]. It is called
	// once per change of the files, not at every check.
	OnCertReloadError func(err error)
}

func (h *Hooks) reject(r *http.Request, err error) {
	if h.OnReject != nil {
		h.OnReject(r, err)
	}
}
