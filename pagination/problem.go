package pagination

import (
	"errors"
	"net/http"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// WriteError answers err with an RFC 9457 problem+json 400 response when it
// is a client's mistake (a [*CursorError] or [*RequestError]) and reports
// whether it did. Other errors are left to the caller, since they are the
// server's.
func WriteError(w http.ResponseWriter, err error) bool {
	var ce *CursorError
	var re *RequestError
	switch {
	case errors.As(err, &ce):
		problem.Write(w, problem.Details{
			Status: http.StatusBadRequest,
			Title:  "Invalid cursor",
			Detail: ce.Error() + "; start again from the first page",
		})
	case errors.As(err, &re):
		problem.Write(w, problem.Details{
			Status:     http.StatusBadRequest,
			Title:      "Invalid page request",
			Detail:     re.Error(),
			Extensions: map[string]any{"param": re.Param},
		})
	default:
		return false
	}
	return true
}
