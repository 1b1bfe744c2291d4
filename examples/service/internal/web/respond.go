package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/txn"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// because PostgreSQL cannot be reached.
const RetryAfterUnavailable = "2"

// Responder answers requests the same way in every domain: JSON bodies,
// and problem documents for the errors handlers meet. The zero value is
// not usable: both fields are required.
type Responder struct {
	Log     *slog.Logger
	Checker *validate.Checker
}

// Check returns an error naming the domain when a field is missing.
func (s Responder) Check(domain string) error {
	if s.Log == nil || s.Checker == nil {
		return errors.New(domain + ": Responder needs Log and Checker")
	}
	return nil
}

// Decode decodes the JSON body into dst and checks its rules; when it
// cannot, it answers the request itself and reports false.
func (s Responder) Decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := s.Checker.DecodeJSON(r, dst); err != nil {
		s.Fail(w, r, err)
		return false
	}
	return true
}

// Fail answers err as problem+json, mapping the errors every domain meets
// to their status; anything unexpected is logged and answered with a bare
// 500. A domain answers its own errors first and hands the rest here.
func (s Responder) Fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		verrs  *validate.Errors
		decErr *validate.DecodeError
	)
	switch {
	case errors.As(err, &verrs), errors.As(err, &decErr), errors.Is(err, validate.ErrBodyTooLarge),
		errors.Is(err, validate.ErrUnsupportedMediaType):
		s.Checker.WriteProblem(w, err)
	case pagination.WriteError(w, err):
	case errors.Is(err, store.ErrNotFound), errors.Is(err, txn.ErrNotFound):
		httpapi.Problem{Status: http.StatusNotFound}.Write(w)
	case errors.Is(err, store.ErrDuplicate):
		httpapi.Problem{Status: http.StatusConflict, Detail: "It already exists."}.Write(w)
	case errors.Is(err, httpapi.ErrPreconditionRequired):
		httpapi.Problem{Status: http.StatusPreconditionRequired,
			Detail: "Send If-Match with the ETag you last read, so that concurrent edits are not lost."}.Write(w)
	case errors.Is(err, httpapi.ErrInvalidPrecondition):
		httpapi.Problem{Status: http.StatusBadRequest, Detail: "The If-Match header is malformed."}.Write(w)
	case errors.Is(err, httpapi.ErrPreconditionFailed), errors.Is(err, txn.ErrConflict):
		httpapi.Problem{Status: http.StatusPreconditionFailed,
			Detail: "The resource changed since you read it; fetch it again."}.Write(w)
	case errors.Is(err, txn.ErrUnavailable) || txn.IsUnavailable(err):
		// An outage of PostgreSQL, not a bug nor contention: checked before
		// ErrRetriesExhausted, which an outage may wrap too.
		w.Header().Set("Retry-After", RetryAfterUnavailable)
		httpapi.Problem{Status: http.StatusServiceUnavailable,
			Detail: "The service is unavailable: its database cannot be reached. Retry shortly."}.Write(w)
	case errors.Is(err, txn.ErrRetriesExhausted):
		w.Header().Set("Retry-After", "1")
		httpapi.Problem{Status: http.StatusServiceUnavailable, Detail: "Too much contention; retry shortly."}.Write(w)
	case unstorableText(err):
		// A client's mistake that a rule missed: say so, and log it so
		// that the rule gets written.
		s.Log.WarnContext(r.Context(), "text refused by PostgreSQL reached the database", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		httpapi.Problem{Status: http.StatusBadRequest,
			Detail: "The request holds text that cannot be stored: a NUL character or bytes that are not UTF-8."}.Write(w)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client left; nobody reads the answer.
	default:
		s.Log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		httpapi.Problem{Status: http.StatusInternalServerError}.Write(w)
	}
}

// unstorableText reports whether err is PostgreSQL refusing text: a NUL
// character or bytes that are not valid in the database's encoding. The
// rules of every request stop such text first; this is the net under them.
func unstorableText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05") // character_not_in_repertoire, untranslatable_character
}

// JSON sends v with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NoNUL fails a string that holds a NUL character, which PostgreSQL refuses
// to store in text. Use it on free text that may hold line breaks and tabs;
// NoControl, stricter, suits names.
func NoNUL(f validate.StringField) validate.StringField {
	return f.Func(func(s string) bool { return !strings.ContainsRune(s, 0) },
		validate.CodeControlCharacter, "must not contain NUL characters")
}

// PathID returns the positive integer {id} of the request's path; any other
// id names nothing, and the request is answered 404 here.
func PathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		httpapi.Problem{Status: http.StatusNotFound}.Write(w)
		return 0, false
	}
	return id, true
}

// listResponse is the shape of every keyset listing.
type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	PrevCursor string `json:"prev_cursor,omitempty"`
	HasMore    bool   `json:"has_more"`
}

// Page sends a page of a keyset listing, with its Link header.
func Page[T any](w http.ResponseWriter, r *http.Request, page pagination.Page[T]) {
	if link := page.Link(&url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}); link != "" {
		w.Header().Add("Link", link) // added: a deprecated alias already has Links of its own
	}
	items := page.Items
	if items == nil {
		items = []T{}
	}
	JSON(w, http.StatusOK, listResponse[T]{Items: items, NextCursor: page.NextCursor, PrevCursor: page.PrevCursor, HasMore: page.HasNext})
}
