package idempotency

import (
	"net/http"
	"slices"
	"strconv"
)

// ReplayedHeader marks a response served from the store rather than by the
// handler.
const ReplayedHeader = "Idempotent-Replayed"

// selectHeaders copies the response headers worth storing.
func (m *Middleware) selectHeaders(h http.Header) http.Header {
	out := make(http.Header, len(m.headers))
	for _, k := range m.headers {
		if vs, ok := h[k]; ok {
			out[k] = slices.Clone(vs)
		}
	}
	return out
}

// replay writes a stored response as the handler first wrote it, or 410
// when it was too large to store.
func replay(w http.ResponseWriter, resp *Response) {
	if resp == nil || resp.BodyOmitted {
		writeProblem(w, http.StatusGone, ProblemNotStored,
			"The request with this Idempotency-Key was processed, but its response was too large to store.")
		return
	}
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = slices.Clone(vs)
	}
	h.Set(ReplayedHeader, "true")
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}
