package validate

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Bounds on what a problem echoes of client input, so that a problem, and
// whatever stores it (an idempotency record, a log), stays a few KB
// whatever the body held. A cut value ends with "…".
const (
	maxNameBytes    = problem.ExcerptBytes // one member name in a pointer or a path
	maxPointerBytes = 4 * maxNameBytes     // a whole pointer or path
	maxParamBytes   = 2 * maxNameBytes     // one string param, such as a decoder's reason
	maxDetailBytes  = 4 * maxNameBytes     // one violation's message
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
	// Truncated is set when more violations were found than Errors
	// lists (Config.MaxViolations).
	Truncated bool `json:"truncated,omitempty"`
}

// ProblemError is one entry of [ProblemDetails.Errors].
type ProblemError struct {
	Pointer string         `json:"pointer"`
	Code    string         `json:"code"`
	Detail  string         `json:"detail"`
	Params  map[string]any `json:"params,omitempty"`
	// Truncated is set when the pointer, the detail or a param echoed
	// client input that was cut (it then ends with "…"); such a pointer
	// no longer resolves against the body.
	Truncated bool `json:"truncated,omitempty"`
}

// Problem describes err for a client, in English: 422 for [*Errors], the
// DecodeError's status (400, 413, 415) for a [*DecodeError], and a bare 500
// for anything else, whose text is not shown because it may hold
// internals. It returns nil for a nil err.
//
// The type is "about:blank" unless Config.ProblemTypeBase is set; the
// title is then the status phrase of RFC 9110 ("Unprocessable Content"),
// as RFC 9457 requires, and the detail says what kind of failure it is.
// With a ProblemTypeBase, each kind has its own type and title.
//
// Client input appears only in excerpts: a member name is cut to 64 bytes
// and a pointer to 256, a string param to 128 and a violation's message
// to 256; a cut entry has Truncated set.
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
			Status: http.StatusUnprocessableEntity, Errors: c.problemErrors(ve.Violations), Truncated: ve.Truncated}
		d.Detail = countDetail(len(ve.Violations), ve.Truncated, "broken rule", "broken rules")
		return titled(d)
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return titled(c.decodeProblem(de))
	}
	return titled(&ProblemDetails{Type: c.problemType("internal"), Status: http.StatusInternalServerError})
}

// titled gives d the status phrase as its title when its type is
// about:blank (RFC 9457 §4.2.1), moving the sentence that said what went
// wrong to the front of the detail, or when it has no title.
func titled(d *ProblemDetails) *ProblemDetails {
	if d.Type == "about:blank" && d.Title != "" {
		if d.Detail == "" {
			d.Detail = d.Title
		} else {
			d.Detail = strings.TrimSuffix(d.Title, ".") + ": " + d.Detail
		}
		if !strings.HasSuffix(d.Detail, ".") && !strings.HasSuffix(d.Detail, "?") {
			d.Detail += "." // a sentence for a person, not an error string
		}
		d.Title = ""
	}
	if d.Title == "" {
		d.Title = problem.StatusPhrase(d.Status)
	}
	return d
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
		d.Errors, d.Truncated = c.problemErrors(de.Violations), de.Truncated
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
		out[i] = c.problemError(v)
	}
	return out
}

func (c *Checker) problemError(v Violation) ProblemError {
	ptr, cut := v.Path.excerptPointer()
	params, paramsCut := excerptParams(v.Params)
	v.Params = params
	detail, detailCut := problem.Excerpt(v.Message(c.cfg.Translator), maxDetailBytes)
	e := ProblemError{Pointer: ptr, Code: v.Code, Detail: detail, Truncated: cut || paramsCut || detailCut}
	if len(params) > 0 {
		e.Params = make(map[string]any, len(params))
		for _, p := range params {
			e.Params[p.Name] = jsonParam(p.Value)
		}
	}
	return e
}

// excerptParams returns params with every string value cut to
// maxParamBytes, copying them only when one is cut.
func excerptParams(params []Param) ([]Param, bool) {
	var out []Param
	for i, p := range params {
		s, ok := p.Value.(string)
		if !ok || len(s) <= maxParamBytes {
			continue
		}
		if out == nil {
			out = append([]Param(nil), params...)
		}
		out[i].Value, _ = problem.Excerpt(s, maxParamBytes)
	}
	if out == nil {
		return params, false
	}
	return out, true
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
	if d.Truncated {
		if ext == nil {
			ext = map[string]any{}
		}
		ext["truncated"] = true
	}
	problem.Write(w, problem.Details{Type: d.Type, Title: d.Title, Status: d.Status, Detail: d.Detail, Extensions: ext})
}

// HandlerFunc adapts a handler that returns an error into an
// [http.Handler]: a nil error means fn wrote its response; any other is
// answered with WriteProblem. It lets handlers end with `return err` after
// DecodeJSON or Check. It is not middleware: it wraps a function, not a
// handler.
func (c *Checker) HandlerFunc(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			c.WriteProblem(w, err)
		}
	})
}

// excerptPointer renders p as a JSON Pointer for a problem: each member
// name cut to maxNameBytes and the whole to maxPointerBytes, never inside
// a rune or an escape. It reports whether anything was cut.
func (p Path) excerptPointer() (string, bool) {
	var b strings.Builder
	cut := false
	for _, s := range p {
		b.WriteByte('/')
		if s.IsIndex() {
			b.WriteString(strconv.Itoa(s.Index))
		} else {
			key, c := problem.Excerpt(s.Key, maxNameBytes)
			cut = cut || c
			writePointerToken(&b, key)
		}
		if b.Len() > maxPointerBytes {
			break
		}
	}
	return cutPath(b.String(), cut, func(s string, end int) int {
		if end > 0 && s[end-1] == '~' { // the escape's digit would be lost
			end--
		}
		return end
	})
}

// excerptString is [Path.String] for people reading errors and logs, with
// the bounds of excerptPointer.
func (p Path) excerptString() string {
	short := make(Path, 0, len(p))
	for _, s := range p {
		if !s.IsIndex() {
			s.Key, _ = problem.Excerpt(s.Key, maxNameBytes)
		}
		short = append(short, s)
	}
	str, _ := cutPath(short.String(), false, func(_ string, end int) int { return end })
	return str
}

// cutPath cuts s to maxPointerBytes at a rune boundary that adjust may
// move back, marking the cut with "…".
func cutPath(s string, cut bool, adjust func(s string, end int) int) (string, bool) {
	if len(s) <= maxPointerBytes {
		return s, cut
	}
	end := maxPointerBytes
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:adjust(s, end)] + "…", true
}
