package web

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

// TestFailTextPostgreSQLRefuses checks the net under the request rules: when
// PostgreSQL refuses text a client sent (a NUL, bytes not in UTF-8), the
// client gets a 400 saying so, not a 500, and the log a warning that names
// the request, so that the missing rule gets written.
func TestFailTextPostgreSQLRefuses(t *testing.T) {
	checker, err := validate.New(validate.Config{})
	require.NoError(t, err)
	for _, tt := range []struct {
		err    error
		status int
		level  string
	}{
		{fmt.Errorf("insert: %w", &pgconn.PgError{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00`}), http.StatusBadRequest, "level=WARN"},
		{&pgconn.PgError{Code: "22P05"}, http.StatusBadRequest, "level=WARN"},
		{&pgconn.PgError{Code: "23502"}, http.StatusInternalServerError, "level=ERROR"},
	} {
		var logs bytes.Buffer
		s := Responder{Log: slog.New(slog.NewTextHandler(&logs, nil)), Checker: checker}
		w := httptest.NewRecorder()
		s.Fail(w, httptest.NewRequest("POST", "/v1/products", nil), tt.err)
		assert.Equal(t, tt.status, w.Code, "%v", tt.err)
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		assert.Contains(t, logs.String(), tt.level)
		assert.Contains(t, logs.String(), "path=/v1/products")
	}
}
