package validate

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// ProblemDetails is an RFC 9457 problem details document, with the
// "errors" extension member of the RFC's own example: one entry per
// violation, located by a JSON Pointer into the request body.
type ProblemDetails struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []ProblemError `json:"errors,omitempty"`
}

// ProblemError is one entry of [ProblemDetails.Errors].
type ProblemError struct {
	Pointer string         `json:"pointer"`
	Code    string         `json:"code"`
	Detail  string         `json:"detail"`
	Params  map[string]any `json:"params,omitempty"`
}

// Problem describes err for a client, in English, with type "about:blank":
// 422 for [*Errors], the DecodeError's status (400, 413, 415) for a
// [*DecodeError], and a bare 500 for anything else, whose text is not
// shown because it may hold internals. It returns nil for a nil err.
func Problem(err error) *ProblemDetails {
	var c Checker
	return c.Problem(err)
}

// WriteProblem writes [Problem](err) as application/problem+json. It
// writes nothing for a nil err.
func WriteProblem(w http.ResponseWriter, err error) {
	var c Checker
	c.WriteProblem(w, err)
}

// Problem is [Problem] with the Checker's Translator and ProblemTypeBase.
func (c *Checker) Problem(err error) *ProblemDetails {
	if err == nil {
		return nil
	}
	var ve *Errors
	if errors.As(err, &ve) {
		d := &ProblemDetails{Type: c.problemType("validation"), Title: "Your request is not valid.",
			Status: http.StatusUnprocessableEntity, Errors: c.problemErrors(ve.Violations)}
		d.Detail = countDetail(len(ve.Violations), ve.Truncated, "broken rule", "broken rules")
		return d
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return c.decodeProblem(de)
	}
	return &ProblemDetails{Type: c.problemType("internal"), Title: http.StatusText(http.StatusInternalServerError),
		Status: http.StatusInternalServerError}
}

func (c *Checker) decodeProblem(de *DecodeError) *ProblemDetails {
	d := &ProblemDetails{Status: de.Status, Detail: de.Detail}
	switch {
	case errors.Is(de, ErrUnsupportedMediaType):
		d.Type, d.Title = c.problemType("unsupported-media-type"), "The request body must be JSON."
	case errors.Is(de, ErrBodyTooLarge):
		d.Type, d.Title = c.problemType("body-too-large"), "The request body is too large."
	case errors.Is(de, ErrReadBody):
		d.Type, d.Title = c.problemType("malformed-json"), "The request body could not be read."
		d.Detail = "" // the read error may describe the server's side
	case errors.Is(de, ErrSchemaMismatch):
		d.Type, d.Title = c.problemType("malformed-json"), "The request body does not have the expected shape."
		d.Errors = c.problemErrors(de.Violations)
		d.Detail = countDetail(len(de.Violations), de.Truncated, "mismatch", "mismatches")
	default:
		d.Type, d.Title = c.problemType("malformed-json"), "The request body is not valid JSON."
	}
	if d.Status == 0 {
		d.Status = http.StatusBadRequest
	}
	return d
}

func countDetail(n int, truncated bool, one, many string) string {
	s := strconv.Itoa(n) + " " + many
	if n == 1 {
		s = "1 " + one
	}
	if truncated {
		s += " (more were found and left out)"
	}
	return s
}

func (c *Checker) problemType(kind string) string {
	if c.cfg.ProblemTypeBase == "" {
		return "about:blank"
	}
	return c.cfg.ProblemTypeBase + kind
}

func (c *Checker) problemErrors(vs []Violation) []ProblemError {
	out := make([]ProblemError, len(vs))
	for i, v := range vs {
		out[i] = ProblemError{Pointer: v.Path.Pointer(), Code: v.Code, Detail: v.Message(c.cfg.Translator)}
		if len(v.Params) > 0 {
			out[i].Params = make(map[string]any, len(v.Params))
			for _, p := range v.Params {
				out[i].Params[p.Name] = jsonParam(p.Value)
			}
		}
	}
	return out
}

// jsonParam makes a param value read well in JSON: a duration as "24h0m0s"
// rather than nanoseconds.
func jsonParam(v any) any {
	if d, ok := v.(time.Duration); ok {
		return d.String()
	}
	return v
}

// WriteProblem writes c.Problem(err) as application/problem+json, with
// Cache-Control: no-store. It writes nothing for a nil err.
func (c *Checker) WriteProblem(w http.ResponseWriter, err error) {
	d := c.Problem(err)
	if d == nil {
		return
	}
	ext := map[string]any(nil)
	if d.Errors != nil {
		ext = map[string]any{"errors": d.Errors}
	}
	problem.Write(w, problem.Details{Type: d.Type, Title: d.Title, Status: d.Status, Detail: d.Detail, Extensions: ext})
}

// Handler adapts a handler that returns an error: a nil error means fn
// wrote its response; any other is answered with WriteProblem. It lets
// handlers end with `return err` after DecodeJSON or Check.
func (c *Checker) Handler(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			c.WriteProblem(w, err)
		}
	})
}
