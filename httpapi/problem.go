package httpapi

import (
	"net/http"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// ProblemContentType is the media type of a problem details document.
const ProblemContentType = problem.ContentType

// Problem is an RFC 9457 problem details document. The zero Type means
// "about:blank", whose title is always the status phrase; Extensions are
// written as top-level members beside the standard ones and may not replace
// them. A Problem is a value: build one per answer, or once for an answer
// sent often.
type Problem struct {
	Type       string         // URI reference naming the problem type; "about:blank" when empty
	Title      string         // short summary of the type; the status phrase when empty, and always for about:blank
	Status     int            // HTTP status code; 500 when zero
	Detail     string         // a sentence about this occurrence, for a person
	Instance   string         // URI reference of this occurrence
	Extensions map[string]any // additional members
}

// Write sends p as the response. Headers the handler already set that
// describe the representation it meant to send (Content-Encoding,
// Content-Range, Content-Location, Content-Disposition, digests, ETag,
// Last-Modified, Location) are dropped; the others stay, Set-Cookie
// included, so that a handler may clear a cookie with its refusal.
func (p Problem) Write(w http.ResponseWriter) {
	problem.Write(w, p.details())
}

// MarshalJSON encodes p as the flat JSON object of RFC 9457, with the
// defaults Write applies (about:blank, the status phrase as its title).
func (p Problem) MarshalJSON() ([]byte, error) {
	return p.details().MarshalJSON()
}

func (p Problem) details() problem.Details {
	status := p.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return problem.Details{Type: p.Type, Title: p.Title, Status: status, Detail: p.Detail,
		Instance: p.Instance, Extensions: p.Extensions}
}

// StatusPhrase returns the reason phrase of an HTTP status code as RFC 9110
// names it ("Content Too Large" for 413, "Unprocessable Content" for 422,
// where net/http still has the older names), or "" for an unknown code.
func StatusPhrase(code int) string { return problem.StatusPhrase(code) }

// ExcerptBytes is how much of one piece of client input (a member name, a
// header value, a query parameter) a problem should echo.
const ExcerptBytes = problem.ExcerptBytes

// Excerpt returns s when it has at most max bytes, and otherwise its first
// bytes up to max, cut at a UTF-8 boundary and followed by "…", with true.
// Echo client input in a problem only through it.
func Excerpt(s string, max int) (string, bool) { return problem.Excerpt(s, max) }
