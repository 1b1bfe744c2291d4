package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// DecodeError is returned when DecodeJSON refuses a request body. Unwrap
// returns the sentinel that says why ([ErrUnsupportedMediaType],
// [ErrBodyTooLarge], [ErrMalformedJSON], [ErrTooDeep], [ErrSchemaMismatch]
// or [ErrReadBody]); Status is the HTTP status to answer with.
type DecodeError struct {
	Err    error
	Status int
	// Detail explains the failure for people, in English.
	Detail string
	// Offset is the byte offset of a syntax error in the body, or -1.
	Offset int64
	// Violations locates each mismatch of an ErrSchemaMismatch.
	Violations []Violation
	// Truncated is set when there were more mismatches than
	// Config.MaxViolations.
	Truncated bool
	cause     error
}

// Error describes the failure and lists the violations, one per line.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for _, v := range e.Violations {
		b.WriteString("\n\t")
		b.WriteString(v.String())
	}
	return b.String()
}

// Unwrap returns the sentinel and, for ErrReadBody, the read error.
func (e *DecodeError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

// DecodeJSON decodes the JSON body of r into dst, a non-nil pointer, and
// then validates dst when it implements [Validatable]. It refuses, with a
// [*DecodeError]:
//
//   - a Content-Type other than application/json or application/*+json, or
//     with a charset other than UTF-8, or a Content-Encoding such as gzip
//     (415): decompress in a middleware before, if you accept it;
//   - a body over Config.MaxBodyBytes (413), read through
//     [http.MaxBytesReader];
//   - a body that is not exactly one JSON value: syntax errors, invalid
//     UTF-8 or lone surrogates, trailing data, an empty body (400);
//   - nesting deeper than Config.MaxDepth (400);
//   - members that dst's type does not have, members that match a field
//     only when case is ignored ("EMAIL" for "email", which encoding/json
//     accepts), duplicate members ({"role":"user","role":"admin"}, of which
//     encoding/json keeps the last), null for a type without null, and
//     values of the wrong type, each with its JSON path (400).
//
// Nothing is written to dst unless the whole body passes the strict walk.
// Rule violations found after decoding come back as [*Errors] (422), with
// dst holding the decoded value. Any
// other error is a bug in the caller (such as [ErrInvalidTarget]) or in a
// custom UnmarshalJSON.
func (c *Checker) DecodeJSON(r *http.Request, dst any) error {
	if err := checkTarget(dst); err != nil {
		return err
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return c.decodeFailure(err)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		// A compressed body would otherwise surface as malformed JSON; RFC
		// 7694 answers an unsupported content coding with 415.
		return c.decodeFailure(&DecodeError{Err: ErrUnsupportedMediaType, Status: http.StatusUnsupportedMediaType,
			Detail: "Content-Encoding " + quoteExcerpt(ce) + " is not supported", Offset: -1})
	}
	data, err := c.readBody(r)
	if err != nil {
		return c.decodeFailure(err)
	}
	return c.Unmarshal(data, dst)
}

// Unmarshal is DecodeJSON for a body already in memory, such as a message
// from a queue: the same strict decoding, then validation.
func (c *Checker) Unmarshal(data []byte, dst any) error {
	if err := checkTarget(dst); err != nil {
		return err
	}
	if int64(len(data)) > c.maxBodyBytes() {
		return c.decodeFailure(tooLarge(c.maxBodyBytes()))
	}
	if err := c.scan(data, reflect.TypeOf(dst).Elem()); err != nil {
		return c.decodeFailure(err)
	}
	if err := unmarshal(data, dst); err != nil {
		return c.decodeFailure(unmarshalFailure(err))
	}
	if x, ok := dst.(Validatable); ok {
		return c.Check(x)
	}
	return nil
}

func checkTarget(dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w, not %T", ErrInvalidTarget, dst)
	}
	return nil
}

func (c *Checker) decodeFailure(err *DecodeError) error {
	if h := c.cfg.Hooks.OnDecodeError; h != nil {
		h(err)
	}
	return err
}

func checkContentType(ct string) *DecodeError {
	fail := func(detail string) *DecodeError {
		return &DecodeError{Err: ErrUnsupportedMediaType, Status: http.StatusUnsupportedMediaType, Detail: detail, Offset: -1}
	}
	if ct == "" {
		return fail("Content-Type is missing; use application/json")
	}
	if strings.EqualFold(ct, "application/json") || strings.EqualFold(ct, "application/json; charset=utf-8") {
		return nil // the usual headers, without the allocations of a full parse
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fail("Content-Type " + quoteExcerpt(ct) + " is malformed")
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return fail("Content-Type " + quoteExcerpt(mt) + " is not JSON; use application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return fail("charset " + quoteExcerpt(cs) + " is not supported; JSON is UTF-8")
	}
	return nil
}

// quoteExcerpt quotes a header value for a detail, cut: headers may be as
// large as the server allows.
func quoteExcerpt(v string) string {
	v, _ = problem.Excerpt(v, maxNameBytes)
	return strconv.Quote(v)
}

func tooLarge(limit int64) *DecodeError {
	return &DecodeError{Err: ErrBodyTooLarge, Status: http.StatusRequestEntityTooLarge,
		Detail: "the body is larger than " + strconv.FormatInt(limit, 10) + " bytes", Offset: -1}
}

func (c *Checker) readBody(r *http.Request) ([]byte, *DecodeError) {
	limit := c.maxBodyBytes()
	if r.ContentLength > limit {
		return nil, tooLarge(limit) // refuse before reading a byte
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, &DecodeError{Err: ErrMalformedJSON, Status: http.StatusBadRequest, Detail: "empty body", Offset: 0}
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// ReadFrom wants MinRead bytes free even when the body fits.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	// MaxBytesReader without a ResponseWriter still stops at the limit; with
	// the server's writer it would also close the connection, which is the
	// caller's choice to make by wrapping r.Body itself.
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, &DecodeError{Err: ErrReadBody, Status: http.StatusBadRequest, Detail: err.Error(), Offset: -1, cause: err}
	}
	return buf.Bytes(), nil
}

// maxPooledScratch is the largest unescape buffer a pooled Validator keeps.
const maxPooledScratch = 64 << 10

// scan runs the strict walk over data for the type t.
func (c *Checker) scan(data []byte, t reflect.Type) *DecodeError {
	v := c.validator()
	defer func() { v.Reset(); c.pool.Put(v) }()
	sc := scanner{data: data, maxDepth: c.maxDepth(), v: v, keys: v.scanKeys[:0], scratch: v.scanScratch[:0]}
	sc.run(c.schemas.get(t))
	clear(sc.keys[:cap(sc.keys)]) // drop references into this body
	v.scanKeys, v.scanScratch = sc.keys[:0], sc.scratch[:0]
	if cap(v.scanScratch) > maxPooledScratch {
		v.scanScratch = nil // one huge escaped string must not pin memory in the pool
	}
	if sc.err != nil {
		sentinel := ErrMalformedJSON
		if sc.err.tooDeep {
			sentinel = ErrTooDeep
		}
		return &DecodeError{Err: sentinel, Status: http.StatusBadRequest,
			Detail: sc.err.msg + " at offset " + strconv.Itoa(sc.err.offset), Offset: int64(sc.err.offset)}
	}
	if v.Valid() {
		return nil
	}
	e := v.errors()
	return &DecodeError{Err: ErrSchemaMismatch, Status: http.StatusBadRequest, Offset: -1,
		Detail: "the body does not match the expected shape", Violations: e.Violations, Truncated: e.Truncated}
}

// unmarshalFailure turns an error of the final decode, which after the
// strict walk can only come from a type's own UnmarshalJSON or
// UnmarshalText, into a violation at the best path known.
func unmarshalFailure(err error) *DecodeError {
	path, ok := encoderErrorPath(err)
	var te *json.UnmarshalTypeError
	if !ok && errors.As(err, &te) && te.Field != "" {
		for _, name := range strings.Split(te.Field, ".") {
			path = append(path, Key(name))
		}
	}
	return &DecodeError{Err: ErrSchemaMismatch, Status: http.StatusBadRequest, Offset: -1,
		Detail: "the body does not match the expected shape", cause: err,
		Violations: []Violation{{Path: path, Code: CodeInvalidValue, Template: msgInvalidValue,
			Params: []Param{{"reason", err.Error()}}}}}
}

// Decode is [Checker.DecodeJSON] for a value of type T, returned rather
// than filled in: in, err := validate.Decode[CreateOrder](checker, r).
// On error the returned value is whatever DecodeJSON left in it.
func Decode[T any](c *Checker, r *http.Request) (T, error) {
	var v T
	err := c.DecodeJSON(r, &v)
	return v, err
}
