package httpsec

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// cannedProblem is a problem+json answer rendered once, at construction.
// Refusals are what an attacker can trigger at will, so they must cost no
// more than a granted request: writing a canned answer does not allocate,
// where rendering one per request costs about twenty allocations. The wire
// format is problem.Write's, byte for byte (a test holds them together).
type cannedProblem struct {
	status        int
	body          []byte
	contentType   []string
	contentLength []string
	nosniff       []string
	noStore       []string
	connection    []string // "close" when the connection must not be reused
}

func newCannedProblem(status int, sentinel error, extensions map[string]any, closeConn bool) cannedProblem {
	d := problem.Details{
		Status:     status,
		Detail:     strings.TrimPrefix(sentinel.Error(), "httpsec: "),
		Extensions: extensions,
	}
	body, err := json.Marshal(d)
	if err != nil {
		// Extensions are ours and always encodable; keep the document valid
		// regardless, as problem.Write does.
		d.Extensions = nil
		body, _ = json.Marshal(d)
	}
	body = append(body, '\n')
	c := cannedProblem{
		status:        status,
		body:          body,
		contentType:   []string{problem.ContentType},
		contentLength: []string{strconv.Itoa(len(body))},
		nosniff:       []string{"nosniff"},
		noStore:       []string{"no-store"},
	}
	if closeConn {
		c.connection = []string{"close"}
	}
	return c
}

func (c *cannedProblem) write(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = c.contentType
	h["Content-Length"] = c.contentLength
	h["X-Content-Type-Options"] = c.nosniff
	if len(h["Cache-Control"]) == 0 {
		h["Cache-Control"] = c.noStore
	}
	if c.connection != nil {
		h["Connection"] = c.connection
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body)
}
