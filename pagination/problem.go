package pagination

import (
	"errors"
	"net/http"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Problem type URIs of the answers [WriteError] writes.
const (
	ProblemInvalidCursor      = "https://bedrock-go.dev/problems/invalid-cursor"
	ProblemInvalidPageRequest = "https://bedrock-go.dev/problems/invalid-page-request"
)

// WriteError answers err with an RFC 9457 problem+json 400 response when it
// is a client's mistake (a [*CursorError] or [*RequestError]) and reports
// whether it did. Other errors are left to the caller, since they are the
// server's.
//
// The detail is written for the client and echoes nothing it sent: a
// refused cursor says why and to start again from the first page; a
// refused parameter is named (in the "param" member too) with the rule it
// broke.
func WriteError(w http.ResponseWriter, err error) bool {
	var ce *CursorError
	var re *RequestError
	switch {
	case errors.As(err, &ce):
		problem.Write(w, problem.Details{
			Status: http.StatusBadRequest,
			Type:   ProblemInvalidCursor,
			Title:  "Invalid cursor",
			Detail: cursorDetail(ce) + " Start again from the first page.",
		})
	case errors.As(err, &re):
		problem.Write(w, problem.Details{
			Status:     http.StatusBadRequest,
			Type:       ProblemInvalidPageRequest,
			Title:      "Invalid page request",
			Detail:     `The "` + re.Param + `" parameter ` + re.Reason + ".",
			Extensions: map[string]any{"param": re.Param},
		})
	default:
		return false
	}
	return true
}

func cursorDetail(ce *CursorError) string {
	var s string
	switch {
	case errors.Is(ce, ErrCursorExpired):
		return "The cursor has expired."
	case errors.Is(ce, ErrCursorMismatch):
		return "The cursor belongs to another sort or filter."
	case errors.Is(ce, ErrCursorSignature):
		return "The cursor is no longer valid, or was altered."
	default:
		s = "The cursor is malformed"
	}
	if ce.Detail != "" {
		s += " (" + ce.Detail + ")"
	}
	return s + "."
}
