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
	if d.Status == 0 {
		d.Status = http.StatusInternalServerError
	}
	body, err := json.Marshal(d)
	if err != nil {
		// Only an extension that cannot be encoded gets here; drop extensions
		// rather than send a broken document.
		d.Extensions = nil
		body, _ = json.Marshal(d)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(d.Status)
	_, _ = w.Write(append(body, '\n'))
}
