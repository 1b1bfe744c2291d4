// Package problem writes RFC 9457 problem details (application/problem+json).
//
// It is the one place where Bedrock's middleware packages render an error
// for a client, so that every package answers in the same shape. The public,
// richer type lives in package validate; this package is internal because
// its only job is a consistent wire format.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType is the media type of a problem details document.
const ContentType = "application/problem+json"

// Details is an RFC 9457 problem details object. Extensions are written as
// top-level members next to the standard ones; an extension may not replace a
// standard member.
type Details struct {
	Type       string         // URI reference; "about:blank" when empty
	Title      string         // short summary; the status text when empty
	Status     int            // HTTP status code
	Detail     string         // explanation specific to this occurrence
	Instance   string         // URI reference of this occurrence
	Extensions map[string]any // additional members
}

// MarshalJSON encodes d as one flat JSON object.
func (d Details) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(d.Extensions)+5)
	for k, v := range d.Extensions {
		m[k] = v
	}
	typ := d.Type
	if typ == "" {
		typ = "about:blank"
	}
	title := d.Title
	if title == "" {
		title = http.StatusText(d.Status)
	}
	m["type"] = typ
	m["title"] = title
	if d.Status != 0 {
		m["status"] = d.Status
	}
	if d.Detail != "" {
		m["detail"] = d.Detail
	}
	if d.Instance != "" {
		m["instance"] = d.Instance
	}
	return json.Marshal(m)
}

// Write sends d as the response, with d.Status as the status code (500 when
// zero) and Cache-Control: no-store. Headers already set on w are kept.
func Write(w http.ResponseWriter, d Details) {
	Render(d).Write(w)
}

// Rendered is a problem document encoded once. Middleware renders its
// refusals at construction, so that an answer a client can trigger at will
// costs no allocation to send. It is immutable and safe for concurrent use.
type Rendered struct {
	status        int
	body          []byte
	contentType   []string
	contentLength []string
	nosniff       []string
	noStore       []string
	connection    []string
}

// Render encodes d. An extension that cannot be encoded is dropped rather
// than sending a broken document.
func Render(d Details) *Rendered {
	if d.Status == 0 {
		d.Status = http.StatusInternalServerError
	}
	body, err := json.Marshal(d)
	if err != nil {
		d.Extensions = nil
		body, _ = json.Marshal(d)
	}
	body = append(body, '\n')
	return &Rendered{
		status:        d.Status,
		body:          body,
		contentType:   []string{ContentType},
		contentLength: []string{strconv.Itoa(len(body))},
		nosniff:       []string{"nosniff"},
		noStore:       []string{"no-store"},
	}
}

// Closing returns a copy of r that also sends Connection: close, for
// answers after which the connection must not be reused (a request body
// left unread).
func (r *Rendered) Closing() *Rendered {
	c := *r
	c.connection = []string{"close"}
	return &c
}

// Write sends r. Headers already set on w are kept, except those r sets;
// Cache-Control is set to no-store only when w has none. The header values
// are shared, read-only slices: handlers after this must replace them with
// Set, never write into them.
func (r *Rendered) Write(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = r.contentType
	h["Content-Length"] = r.contentLength
	h["X-Content-Type-Options"] = r.nosniff
	if len(h["Cache-Control"]) == 0 {
		h["Cache-Control"] = r.noStore
	}
	if r.connection != nil {
		h["Connection"] = r.connection
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}
