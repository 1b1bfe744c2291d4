package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// ContentType is the media type of a problem details document.
const ContentType = "application/problem+json"

// Details is an RFC 9457 problem details object. Extensions are written as
// top-level members next to the standard ones; an extension may not replace a
// standard member.
type Details struct {
	Type string // URI reference; "about:blank" when empty
	// Title is a short summary of the problem type; [StatusPhrase] when
	// empty. It is ignored when Type is about:blank, whose title is always
	// the status phrase: a sentence of its own needs a type of its own.
	Title      string
	Status     int            // HTTP status code
	Detail     string         // explanation specific to this occurrence
	Instance   string         // URI reference of this occurrence
	Extensions map[string]any // additional members
}

// MarshalJSON encodes d as one flat JSON object.
func (d Details) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(d.Extensions)+5)
	for k, v := range d.Extensions {
		switch k {
		case "type", "title", "status", "detail", "instance":
			// An extension may not stand in for a standard member, even
			// one this document leaves out.
		default:
			m[k] = v
		}
	}
	typ := d.Type
	if typ == "" {
		typ = "about:blank"
	}
	title := d.Title
	if title == "" || typ == "about:blank" {
		title = StatusPhrase(d.Status)
	}
	m["type"] = typ
	if title != "" {
		m["title"] = title
	}
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

// StatusPhrase returns the reason phrase of an HTTP status code as RFC 9110
// names it ("Content Too Large" for 413, "Unprocessable Content" for 422,
// where net/http still has the older names), the standard library's phrase
// for codes defined elsewhere (429), or "" for an unknown code.
func StatusPhrase(code int) string {
	switch code {
	case http.StatusRequestEntityTooLarge:
		return "Content Too Large"
	case http.StatusRequestURITooLong:
		return "URI Too Long"
	case http.StatusRequestedRangeNotSatisfiable:
		return "Range Not Satisfiable"
	case http.StatusUnprocessableEntity:
		return "Unprocessable Content"
	}
	return http.StatusText(code)
}

// ExcerptBytes is how much of one piece of client input (a member name, a
// header value, a query parameter) a problem may echo.
const ExcerptBytes = 64

// Excerpt returns s when it has at most max bytes, and otherwise its first
// bytes up to max, cut at a UTF-8 boundary and followed by "…", with true.
// Problems echo client input only through it, so that an answer, and
// whatever stores it (an idempotency record, a log), stays small whatever a
// client sends.
func Excerpt(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…", true
}

// staleHeaders describe the representation a problem replaces (its coding,
// validators, target, range, digests): sent with the problem they would
// describe a body that is not there. "ETag" is listed raw as well because
// handlers often set it without canonicalising. Content-Length is
// rewritten, not dropped.
var staleHeaders = [...]string{
	"Content-Encoding", "Content-Range", "Content-Location", "Content-Disposition",
	"Content-Digest", "Repr-Digest", "Digest", "Content-Md5",
	"Etag", "ETag", "Last-Modified", "Location",
}

// unfinishedHeaders are what a handler that never finished meant to say
// beyond the representation: cookies it set (a session it did not complete)
// and how its answer may be cached (a "public, max-age" on a 500 would let
// a shared cache serve the failure to everyone).
var unfinishedHeaders = [...]string{"Set-Cookie", "Cache-Control", "Expires", "Pragma"}

// Write sends d as the response, with d.Status as the status code (500 when
// zero), as [Rendered.Write] does.
func Write(w http.ResponseWriter, d Details) {
	Render(d).Write(w)
}

// Replace sends d in place of a response the handler never finished, as
// [Rendered.Replace] does.
func Replace(w http.ResponseWriter, d Details) {
	Render(d).Replace(w)
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

// Write sends r as a handler's answer. A problem is often written after a
// handler set headers for the response it meant to send: the headers that
// describe that representation — Content-Encoding, Content-Range,
// Content-Location, Content-Disposition, digests, ETag, Last-Modified,
// Location — are dropped. Other headers already set on w are kept
// (Set-Cookie, so that a handler may clear a cookie with its refusal;
// Retry-After, Vary, CORS, Content-Language), except those r sets;
// Cache-Control is set to no-store only when w has none. The header values
// are shared, read-only slices: handlers after this must replace them with
// Set, never write into them.
func (r *Rendered) Write(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range staleHeaders {
		delete(h, k)
	}
	r.write(w)
}

// Replace sends r in place of a response the handler started but never
// finished: a panic, a request body limit tripped mid-read. Besides what
// [Rendered.Write] drops, the handler's Set-Cookie, Cache-Control, Expires
// and Pragma go, and the answer is no-store: the handler's cookies and
// caching were meant for a success that did not happen.
func (r *Rendered) Replace(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range staleHeaders {
		delete(h, k)
	}
	for _, k := range unfinishedHeaders {
		delete(h, k)
	}
	r.write(w)
}

func (r *Rendered) write(w http.ResponseWriter) {
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
