package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bedrock-go/bedrock/internal/problem"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/txn"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// noNUL fails a string that holds a NUL character, which PostgreSQL refuses
// to store in text. Use it on free text that may hold line breaks and tabs;
// NoControl, stricter, suits names.
// The service's own problem types. A problem with a title of its own needs
// a type of its own: with about:blank the title is the status phrase
// (RFC 9457 §4.2.1). Clients branch on the type, never on the title.
const (
	ProblemOutOfStock     = "https://shop.example/problems/out-of-stock"
	ProblemUnknownProduct = "https://shop.example/problems/unknown-product"
	ProblemEmailTaken     = "https://shop.example/problems/email-taken"
	ProblemBadCredentials = "https://shop.example/problems/bad-credentials"
)

func noNUL(f validate.StringField) validate.StringField {
	return f.Func(func(s string) bool { return !strings.ContainsRune(s, 0) },
		validate.CodeControlCharacter, "must not contain NUL characters")
}

// unstorableText reports whether err is PostgreSQL refusing text: a NUL
// character or bytes that are not valid in the database's encoding. The
// rules of every request stop such text first; this is the net under them.
func unstorableText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05") // character_not_in_repertoire, untranslatable_character
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers err as problem+json, mapping the errors handlers meet to
// their status; anything unexpected is logged and answered with a bare 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		verrs  *validate.Errors
		decErr *validate.DecodeError
		oos    *store.OutOfStockError
		unk    *store.UnknownProductError
	)
	switch {
	case errors.As(err, &verrs), errors.As(err, &decErr), errors.Is(err, validate.ErrBodyTooLarge),
		errors.Is(err, validate.ErrUnsupportedMediaType):
		s.checker.WriteProblem(w, err)
	case pagination.WriteError(w, err):
	case errors.As(err, &oos):
		problem.Write(w, problem.Details{Status: http.StatusConflict, Type: ProblemOutOfStock, Title: "Out of stock",
			Detail:     "A product does not have enough stock for this order.",
			Extensions: map[string]any{"product_id": oos.ProductID, "available": oos.Available}})
	case errors.As(err, &unk):
		problem.Write(w, problem.Details{Status: http.StatusUnprocessableEntity, Type: ProblemUnknownProduct, Title: "Unknown product",
			Detail: "An ordered product does not exist.", Extensions: map[string]any{"product_id": unk.ProductID}})
	case errors.Is(err, store.ErrNotFound), errors.Is(err, txn.ErrNotFound):
		problem.Write(w, problem.Details{Status: http.StatusNotFound})
	case errors.Is(err, store.ErrDuplicate):
		problem.Write(w, problem.Details{Status: http.StatusConflict, Detail: "It already exists."})
	case errors.Is(err, txn.ErrPreconditionRequired):
		problem.Write(w, problem.Details{Status: http.StatusPreconditionRequired,
			Detail: "Send If-Match with the ETag you last read, so that concurrent edits are not lost."})
	case errors.Is(err, txn.ErrInvalidIfMatch):
		problem.Write(w, problem.Details{Status: http.StatusBadRequest, Detail: "The If-Match header is malformed."})
	case errors.Is(err, txn.ErrPreconditionFailed), errors.Is(err, txn.ErrConflict):
		problem.Write(w, problem.Details{Status: http.StatusPreconditionFailed,
			Detail: "The resource changed since you read it; fetch it again."})
	case errors.Is(err, txn.ErrRetriesExhausted):
		w.Header().Set("Retry-After", "1")
		problem.Write(w, problem.Details{Status: http.StatusServiceUnavailable, Detail: "Too much contention; retry shortly."})
	case unstorableText(err):
		// A client's mistake that a rule missed: say so, and log it so
		// that the rule gets written.
		s.log.WarnContext(r.Context(), "text refused by PostgreSQL reached the database", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		problem.Write(w, problem.Details{Status: http.StatusBadRequest,
			Detail: "The request holds text that cannot be stored: a NUL character or bytes that are not UTF-8."})
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client left; nobody reads the answer.
	default:
		s.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		problem.Write(w, problem.Details{Status: http.StatusInternalServerError})
	}
}
