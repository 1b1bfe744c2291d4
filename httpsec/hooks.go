package httpsec

import "net/http"

// Hooks receives instrumentation callbacks. The zero value disables them
// at no cost. Callbacks run on the request goroutine and must be safe for
// concurrent use.
type Hooks struct {
	// OnReject is called each time a middleware refuses a request, with an
	// error that matches one of ErrOriginNotAllowed, ErrMethodNotAllowed,
	// ErrHeaderNotAllowed, ErrBodyTooLarge, ErrCrossOriginRequest or
	// ErrHostNotAllowed.
	OnReject func(r *http.Request, err error)
}

func (h *Hooks) reject(r *http.Request, err error) {
	if h.OnReject != nil {
		h.OnReject(r, err)
	}
}
