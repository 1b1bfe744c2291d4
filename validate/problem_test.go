package validate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

func TestProblem_StatusByFailure(t *testing.T) {
	c := mustChecker(t, validate.Config{MaxBodyBytes: 80})
	decode := func(body, ct string) error {
		var s Signup
		return c.DecodeJSON(newRequest(body, ct), &s)
	}
	cases := []struct {
		name   string
		err    error
		status int
		errs   int
	}{
		{"malformed", decode(`{"email":`, "application/json"), 400, 0},
		{"too deep", decode(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, "application/json"), 400, 0},
		{"schema mismatch", decode(`{"email":1,"x":2}`, "application/json"), 400, 2},
		{"too large", decode(`{"name":"`+string(make([]byte, 100))+`"}`, "application/json"), 413, 0},
		{"wrong content type", decode(`{}`, "text/plain"), 415, 0},
		{"violations", decode(`{"email":"x","name":"Ada"}`, "application/json"), 422, 1},
		{"internal", errors.New("database password is hunter2"), 500, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, tc.err)
			rec := httptest.NewRecorder()
			c.WriteProblem(rec, tc.err)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			var body struct {
				Type   string `json:"type"`
				Title  string `json:"title"`
				Status int    `json:"status"`
				Detail string `json:"detail"`
				Errors []struct {
					Pointer string         `json:"pointer"`
					Code    string         `json:"code"`
					Detail  string         `json:"detail"`
					Params  map[string]any `json:"params"`
				} `json:"errors"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, tc.status, body.Status)
			assert.Equal(t, "about:blank", body.Type)
			assert.NotEmpty(t, body.Title)
			assert.Len(t, body.Errors, tc.errs)
			for _, e := range body.Errors {
				assert.NotEmpty(t, e.Pointer)
				assert.NotEmpty(t, e.Code)
				assert.NotEmpty(t, e.Detail)
			}
			assert.NotContains(t, rec.Body.String(), "hunter2", "internal errors are not shown")
		})
	}
}

func TestProblem_ErrorsMemberMatchesRFC9457Example(t *testing.T) {
	err := validate.Check(&Signup{Email: "ada@example.com", Name: "Ada", Tags: []string{"a", "b", "c", "d"}})
	d := validate.Problem(err)
	require.NotNil(t, d)
	assert.Equal(t, 422, d.Status)
	require.Len(t, d.Errors, 1)
	assert.Equal(t, validate.ProblemError{Pointer: "/tags", Code: "too_many_items",
		Detail: "must have at most 3 items", Params: map[string]any{"max": 3}}, d.Errors[0])
	assert.Nil(t, validate.Problem(nil))
}

func TestProblem_TypeBaseAndTranslator(t *testing.T) {
	c := mustChecker(t, validate.Config{
		ProblemTypeBase: "https://api.example.com/problems/",
		Translator:      validate.Templates{validate.CodeEmail: "adresse e-mail invalide"},
	})
	d := c.Problem(c.Check(&Signup{Email: "x", Name: "Ada"}))
	assert.Equal(t, "https://api.example.com/problems/validation", d.Type)
	assert.Equal(t, "adresse e-mail invalide", d.Errors[0].Detail)

	var s Signup
	d = c.Problem(c.DecodeJSON(newRequest(`{}`, "text/csv"), &s))
	assert.Equal(t, "https://api.example.com/problems/unsupported-media-type", d.Type)
}

func TestProblem_DurationParamIsReadable(t *testing.T) {
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var v validate.Validator
	v.Time("at", ref.Add(48*time.Hour)).Within(ref, 24*time.Hour)
	d := validate.Problem(v.Err())
	assert.Equal(t, "24h0m0s", d.Errors[0].Params["within"])
	assert.Equal(t, "must be within 24h0m0s of 2026-01-01T00:00:00Z", d.Errors[0].Detail)
}

func TestHandlerFunc_WritesProblemForReturnedErrors(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	h := c.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var s Signup
		if err := c.DecodeJSON(r, &s); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	})
	cases := []struct {
		body string
		want int
	}{
		{`{"email":"ada@example.com","name":"Ada"}`, http.StatusCreated},
		{`{"email":"ada@example.com","name":"A"}`, http.StatusUnprocessableEntity},
		{`{"email":"ada@example.com","email":"x"}`, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.body, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(tc.body, "application/json"))
			assert.Equal(t, tc.want, rec.Code)
		})
	}
	rec := httptest.NewRecorder()
	validate.WriteProblem(rec, nil)
	assert.Equal(t, 200, rec.Code, "nil error writes nothing")
	assert.Empty(t, rec.Body.String())
}
