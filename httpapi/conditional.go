package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bedrock-go/bedrock/internal/httpfield"
	"github.com/bedrock-go/bedrock/internal/problem"
)

// Validators describe the current representation of a resource, against
// which a request's preconditions are evaluated. The zero value is a
// representation without validators: only "*" can match it.
type Validators struct {
	// ETag is the ETag field value of the current representation, `"v3"`
	// or `W/"a1"` ([ETagFromVersion] writes one from a version number); ""
	// when it has none.
	ETag string
	// LastModified is when the representation last changed; zero when
	// unknown. HTTP dates have a resolution of one second: it is compared
	// truncated to the second.
	LastModified time.Time
	// Missing says the resource has no current representation (a PUT that
	// would create it): "If-Match: *" fails and "If-None-Match: *" holds.
	Missing bool
}

// Result is the outcome of evaluating a request's preconditions.
type Result uint8

const (
	// Proceed: every precondition holds (or there is none); the handler
	// answers as it would without them.
	Proceed Result = iota
	// NotModified: a GET or HEAD whose cached representation is current;
	// the answer is 304 Not Modified.
	NotModified
	// PreconditionFailed: the answer is 412 Precondition Failed.
	PreconditionFailed
)

// EvaluatePreconditions evaluates the preconditions of r against the
// current representation v in the order of RFC 9110 §13.2.2:
//
//  1. If-Match, with strong comparison; "*" holds when v is not Missing.
//     False: 412.
//  2. Without If-Match, If-Unmodified-Since, when v has a LastModified.
//     False: 412.
//  3. If-None-Match, with weak comparison; "*" fails when v is not
//     Missing. False: 304 for GET and HEAD, 412 for other methods.
//  4. Without If-None-Match, for GET and HEAD, If-Modified-Since when v
//     has a LastModified. False: 304.
//
// A date that is not a valid HTTP-date, or sent twice, is ignored, as
// §13.1.3 and §13.1.4 require, and so are all preconditions of CONNECT,
// OPTIONS and TRACE (§13.2.1); an If-Match or If-None-Match that is not a valid list of entity
// tags is an error wrapping [ErrInvalidPrecondition] (400), because
// ignoring it would carry out a write the client meant to guard. A field
// sent empty is a list of no tags: an empty If-Match fails, an empty
// If-None-Match holds (and rules If-Modified-Since out). Range and
// If-Range are not evaluated. A v.ETag that is not an entity tag is the handler's bug and
// returns an error wrapping [ErrInvalidETag].
//
// Call it only when the answer without preconditions would be a 2xx
// (§13.2.1): a missing resource is a 404 whatever the request's
// preconditions. Most handlers want [Conditional], which also answers.
func EvaluatePreconditions(r *http.Request, v Validators) (Result, error) {
	current, err := v.etag()
	if err != nil {
		return Proceed, err
	}
	switch r.Method {
	case http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return Proceed, nil // no representation is selected (§13.2.1)
	}
	h := r.Header
	if im := h["If-Match"]; present(im) {
		ok, perr := holds(im, current, v, false)
		if perr != errNone {
			return Proceed, fmt.Errorf("%w: If-Match: %s", ErrInvalidPrecondition, perr.reason())
		}
		if !ok {
			return PreconditionFailed, nil
		}
	} else if ius := date(h, "If-Unmodified-Since"); ius != "" && !v.LastModified.IsZero() && !v.Missing {
		if t, err := http.ParseTime(ius); err == nil && v.LastModified.Truncate(time.Second).After(t) {
			return PreconditionFailed, nil
		}
	}
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	if inm := h["If-None-Match"]; present(inm) {
		matched, perr := holds(inm, current, v, true)
		if perr != errNone {
			return Proceed, fmt.Errorf("%w: If-None-Match: %s", ErrInvalidPrecondition, perr.reason())
		}
		if !matched {
			return Proceed, nil
		}
		if safe {
			return NotModified, nil
		}
		return PreconditionFailed, nil
	}
	if ims := date(h, "If-Modified-Since"); safe && ims != "" && !v.LastModified.IsZero() && !v.Missing {
		if t, err := http.ParseTime(ims); err == nil && !v.LastModified.Truncate(time.Second).After(t) {
			return NotModified, nil
		}
	}
	return Proceed, nil
}

// holds reports whether an If-Match (weak false) or If-None-Match (weak
// true) field, given as its field lines, names the current
// representation: "*" names any that exists. Several lines make one list
// (RFC 9110 §5.3), where "*" may not stand.
func holds(lines []string, current ETag, v Validators, weak bool) (bool, parseError) {
	if len(lines) == 1 && httpfield.TrimOWS(lines[0]) == "*" {
		return !v.Missing, errNone
	}
	matched := false
	for _, f := range lines {
		// Without a current tag nothing matches, but the list must still
		// be valid: a malformed guard is refused, never skipped.
		m, err := listMatches(f, current, weak)
		if err != errNone {
			return false, err
		}
		matched = matched || m && !v.Missing && v.ETag != ""
	}
	return matched, errNone
}

// present reports whether a field was sent, even empty: an empty If-Match
// is a list of no tags, which nothing matches (RFC 9110 §13.1.1).
func present(lines []string) bool { return len(lines) > 0 }

// field returns the first value of a header, trimmed of OWS, without the
// canonicalisation cost of Header.Get: the names here are canonical.
func field(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return httpfield.TrimOWS(v[0])
	}
	return ""
}

// date returns the value of a date field, or "" when it is absent or
// sent more than once: a list of dates is no date (§13.1.3, §13.1.4).
func date(h http.Header, name string) string {
	if v := h[name]; len(v) == 1 {
		return httpfield.TrimOWS(v[0])
	}
	return ""
}

func (v Validators) etag() (ETag, error) {
	if v.ETag == "" || v.Missing {
		return ETag{}, nil
	}
	e, rest, err := cutETag(v.ETag)
	if err != errNone || rest != "" {
		return ETag{}, fmt.Errorf("%w: Validators.ETag %q", ErrInvalidETag, v.ETag)
	}
	return e, nil
}

var (
	preconditionFailed = problem.Render(problem.Details{Status: http.StatusPreconditionFailed,
		Detail: "The resource has changed since the version this request is conditional on."})
	preconditionRequired = problem.Render(problem.Details{Status: http.StatusPreconditionRequired,
		Detail: "This request must be conditional: send If-Match with the ETag of the version it changes."})
	invalidPrecondition = problem.Render(problem.Details{Status: http.StatusBadRequest,
		Detail: "The If-Match or If-None-Match field is not a valid list of entity tags."})
	invalidValidators = problem.Render(problem.Details{Status: http.StatusInternalServerError})
)

// Conditional is what a handler calls once it knows the current
// representation, before writing it: it evaluates r's preconditions with
// [EvaluatePreconditions] and, when they decide the answer, sends it and
// returns true: 304 Not Modified (with the headers §15.4.5 allows), a 412
// problem, a 400 problem for a malformed If-Match or If-None-Match, or a
// 500 problem for a v.ETag that is not an entity tag. Otherwise it
// returns false and the handler answers as usual.
//
// Either way it sets the ETag and Last-Modified fields from v on w when w
// has none yet, so a handler that set them itself (to the same values)
// pays nothing more. Set Cache-Control and Vary ([CachePolicy.Apply])
// before calling it: a 304 carries the fields a 200 would have, while a
// 412, 400 or 500 goes out with Cache-Control: no-store, whatever the
// handler set.
func Conditional(w http.ResponseWriter, r *http.Request, v Validators) bool {
	res, err := EvaluatePreconditions(r, v)
	switch {
	case err == nil && res == Proceed:
		setValidators(w.Header(), v)
		return false
	case err == nil && res == NotModified:
		setValidators(w.Header(), v)
		WriteNotModified(w)
	case err == nil:
		refuse(w, preconditionFailed)
	case errors.Is(err, ErrInvalidPrecondition):
		refuse(w, invalidPrecondition)
	default:
		refuse(w, invalidValidators)
	}
	return true
}

// refuse writes p after dropping the caching the handler chose for its
// representation: a public policy applied before Conditional (as its doc
// says) must not let a shared cache store one client's refusal for
// everyone, so the problem goes out no-store.
func refuse(w http.ResponseWriter, p *problem.Rendered) {
	h := w.Header()
	delete(h, "Cache-Control")
	delete(h, "Expires")
	p.Write(w)
}

func setValidators(h http.Header, v Validators) {
	if v.Missing {
		return
	}
	if v.ETag != "" && !hasETag(h) {
		h["Etag"] = []string{v.ETag}
	}
	if !v.LastModified.IsZero() && len(h["Last-Modified"]) == 0 {
		h["Last-Modified"] = []string{v.LastModified.UTC().Format(http.TimeFormat)}
	}
}

// etagKeys are the keys an ETag field is found under: handlers often set
// h["ETag"] directly, bypassing canonicalisation ("Etag").
var etagKeys = [...]string{"Etag", "ETag"}

func hasETag(h http.Header) bool {
	for _, k := range etagKeys {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// dropOn304 reports whether a field of a 200 must not be carried by a
// 304: the representation's metadata (RFC 9110 §15.4.5 keeps
// Content-Location, Date, ETag, Vary, Cache-Control and Expires, and the
// other fields of the response, such as Link, Deprecation and
// Set-Cookie). Last-Modified goes too when the answer has an ETag.
func dropOn304(k string, hasETag bool) bool {
	switch k {
	case "Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
		"Content-Range", "Content-Disposition", "Content-Digest", "Repr-Digest",
		"Digest", "Content-Md5", "Transfer-Encoding":
		return true
	case "Last-Modified":
		return hasETag
	}
	return false
}

// WriteNotModified sends 304 Not Modified: it removes the fields that
// describe a body (Content-Type, Content-Length, Content-Encoding, ...)
// and, when the response has an ETag, Last-Modified, which then guides no
// cache (§15.4.5); the others stay. [Conditional] calls it; call it
// yourself only after [EvaluatePreconditions] returned [NotModified].
func WriteNotModified(w http.ResponseWriter) {
	h := w.Header()
	withETag := hasETag(h)
	// Ranging over the few fields an answer has costs less than looking
	// up each of the dozen names.
	for k := range h {
		if dropOn304(k, withETag) {
			delete(h, k)
		}
	}
	w.WriteHeader(http.StatusNotModified)
}

// String returns the result's name: "proceed", "304 Not Modified" or
// "412 Precondition Failed".
func (r Result) String() string {
	switch r {
	case Proceed:
		return "proceed"
	case NotModified:
		return "304 Not Modified"
	case PreconditionFailed:
		return "412 Precondition Failed"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}
