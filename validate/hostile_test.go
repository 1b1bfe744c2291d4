package validate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

// problemBody is the wire form of a problem with its errors member.
type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Truncated bool   `json:"truncated"`
	Errors    []struct {
		Pointer   string         `json:"pointer"`
		Code      string         `json:"code"`
		Detail    string         `json:"detail"`
		Params    map[string]any `json:"params"`
		Truncated bool           `json:"truncated"`
	} `json:"errors"`
}

func writeProblem(t *testing.T, c *validate.Checker, err error) (*httptest.ResponseRecorder, problemBody) {
	t.Helper()
	rec := httptest.NewRecorder()
	c.WriteProblem(rec, err)
	var p problemBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p), rec.Body.String())
	return rec, p
}

// members returns a JSON object of n members whose names are the rune r
// repeated to size bytes, each name different.
func members(n, size int, r rune) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		name := string(rune('A'+i%26)) + string(rune('A'+i/26)) + strings.Repeat(string(r), (size-2)/utf8.RuneLen(r))
		b.WriteString(`"` + name + `":1`)
	}
	b.WriteByte('}')
	return b.String()
}

// Issue 20, item 5: an order body with 100 unknown members whose names are
// 10 KB each made a ~1 MB 400, which the idempotency middleware then kept
// for a day. The problem echoes excerpts of the names, lists a bounded
// number of them, and says that it cut both.
func TestProblem_HostileUnknownMembersMakeASmallProblem(t *testing.T) {
	for name, r := range map[string]rune{"ASCII": 'x', "two-byte runes": 'é', "four-byte runes": '😀'} {
		t.Run(name, func(t *testing.T) {
			c := mustChecker(t, validate.Config{})
			body := members(100, 10<<10, r)
			require.Greater(t, len(body), 1_000_000)
			var o order
			err := c.DecodeJSON(newRequest(body, "application/json"), &o)
			require.ErrorIs(t, err, validate.ErrSchemaMismatch)

			rec, p := writeProblem(t, c, err)
			assert.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Less(t, rec.Body.Len(), 4096, "a few KB, whatever the client sent")
			assert.Len(t, p.Errors, validate.DefaultMaxViolations)
			assert.True(t, p.Truncated, "the problem says that more were found")
			for _, e := range p.Errors {
				assert.Equal(t, validate.CodeUnknownField, e.Code)
				assert.True(t, e.Truncated, "each entry says that its pointer was cut")
				assert.LessOrEqual(t, len(e.Pointer), 1+64+len("…"))
				assert.True(t, strings.HasSuffix(e.Pointer, "…"), e.Pointer)
				assert.True(t, utf8.ValidString(e.Pointer))
			}
			assert.Less(t, len(err.Error()), 8192, "the error, which ends up in logs, is bounded too")
		})
	}
}

// Member names under the bound are echoed whole and not marked.
func TestProblem_ShortNamesAreNotCut(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	name := strings.Repeat("n", 64)
	var o order
	err := c.DecodeJSON(newRequest(`{"`+name+`":1,"labels":{"a/b~c":1}}`, "application/json"), &o)
	_, p := writeProblem(t, c, err)
	require.Len(t, p.Errors, 2)
	assert.Equal(t, "/"+name, p.Errors[0].Pointer)
	assert.False(t, p.Errors[0].Truncated)
	assert.Equal(t, "/labels/a~1b~0c", p.Errors[1].Pointer, "RFC 6901 escapes")
	assert.False(t, p.Truncated)
}

// Map keys are client input at any depth: the pointer as a whole is
// bounded too, and never ends inside an escape.
func TestProblem_DeepHostileMapKeysAreBounded(t *testing.T) {
	type deep struct {
		M map[string]map[string]map[string]map[string]map[string]int `json:"m"`
	}
	key := strings.Repeat("~", 200) // each escapes to two bytes
	body := `{"m":{"` + key + `1":{"` + key + `2":{"` + key + `3":{"` + key + `4":{"` + key + `5":"x"}}}}}}`
	c := mustChecker(t, validate.Config{})
	var d deep
	err := c.Unmarshal([]byte(body), &d)
	_, p := writeProblem(t, c, err)
	require.Len(t, p.Errors, 1)
	e := p.Errors[0]
	assert.True(t, e.Truncated)
	assert.LessOrEqual(t, len(e.Pointer), 256+len("…"))
	assert.False(t, strings.HasSuffix(e.Pointer, "~…"), "no escape cut in half: %s", e.Pointer)
	_, perr := validate.ParsePointer(strings.TrimSuffix(e.Pointer, "…"))
	assert.NoError(t, perr, "what is left is a well-formed pointer")
}

type echoingValue string

// UnmarshalJSON refuses everything and quotes what it was given, as
// time.Time and many hand-written decoders do.
func (e *echoingValue) UnmarshalJSON(b []byte) error {
	return errors.New("cannot parse " + string(b) + " as a value")
}

// A type's own decoder often quotes the value in its error; the reason the
// problem shows is cut.
func TestProblem_DecoderReasonsAreCut(t *testing.T) {
	type thing struct {
		V echoingValue `json:"v"`
	}
	c := mustChecker(t, validate.Config{})
	var x thing
	err := c.Unmarshal([]byte(`{"v":"`+strings.Repeat("A", 50_000)+`"}`), &x)
	require.ErrorIs(t, err, validate.ErrSchemaMismatch)
	rec, p := writeProblem(t, c, err)
	assert.Less(t, rec.Body.Len(), 1024)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, validate.CodeInvalidValue, p.Errors[0].Code)
	assert.Contains(t, p.Errors[0].Detail, "cannot parse")
	assert.True(t, p.Errors[0].Truncated)
	assert.Less(t, len(err.Error()), 1024)
}

// Header values a client chose are echoed in excerpts.
func TestProblem_HeaderValuesAreCut(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	huge := strings.Repeat("z", 100_000)
	for name, r := range map[string]*http.Request{
		"content type": newRequest(`{}`, "application/"+huge),
		"malformed":    newRequest(`{}`, "application/json; "+huge),
		"charset":      newRequest(`{}`, "application/json; charset="+huge),
		"encoding": func() *http.Request {
			r := newRequest(`{}`, "application/json")
			r.Header.Set("Content-Encoding", huge)
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			var o order
			err := c.DecodeJSON(r, &o)
			require.ErrorIs(t, err, validate.ErrUnsupportedMediaType)
			rec, p := writeProblem(t, c, err)
			assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
			assert.Less(t, rec.Body.Len(), 512)
			assert.Contains(t, p.Detail, "…")
			assert.Less(t, len(err.Error()), 512)
		})
	}
}

// Custom rules may put client input in a message or a param; a problem
// still bounds each.
func TestProblem_CustomRulesEchoingInputAreBounded(t *testing.T) {
	var v validate.Validator
	input := strings.Repeat("q", 10_000)
	v.Report("q", "bad_query", "{query} is not a query", validate.Param{Name: "query", Value: input})
	rec := httptest.NewRecorder()
	validate.WriteProblem(rec, v.Err())
	assert.Less(t, rec.Body.Len(), 1024)
	var p problemBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	require.Len(t, p.Errors, 1)
	assert.True(t, p.Errors[0].Truncated)
}

// RFC 9457 §4.2.1: with type about:blank the title is the status phrase
// (RFC 9110's), and what the sentence said moves to the detail. With a
// type of its own, each kind of failure keeps its own title.
func TestProblem_AboutBlankTitleIsTheStatusPhrase(t *testing.T) {
	decode := func(c *validate.Checker, body, ct string) error {
		var s Signup
		return c.DecodeJSON(newRequest(body, ct), &s)
	}
	plain := mustChecker(t, validate.Config{MaxBodyBytes: 80})
	typed := mustChecker(t, validate.Config{MaxBodyBytes: 80, ProblemTypeBase: "https://api.example/problems/"})
	cases := []struct {
		name, body, ct string
		status         int
		phrase, title  string
	}{
		{"malformed", `{"email":`, "application/json", 400, "Bad Request", "The request body is not valid JSON."},
		{"shape", `{"email":1}`, "application/json", 400, "Bad Request", "The request body does not have the expected shape."},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `"}`, "application/json", 413, "Content Too Large", "The request body is too large."},
		{"media type", `{}`, "text/plain", 415, "Unsupported Media Type", "The request body must be JSON."},
		{"rules", `{"email":"x","name":"Ada"}`, "application/json", 422, "Unprocessable Content", "Your request is not valid."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, p := writeProblem(t, plain, decode(plain, tc.body, tc.ct))
			assert.Equal(t, tc.status, p.Status)
			assert.Equal(t, "about:blank", p.Type)
			assert.Equal(t, tc.phrase, p.Title)
			assert.True(t, strings.HasPrefix(p.Detail, strings.TrimSuffix(tc.title, ".")), p.Detail)
			d := plain.Problem(decode(plain, tc.body, tc.ct))
			assert.Equal(t, tc.phrase, d.Title, "the public type agrees with the wire")

			_, p = writeProblem(t, typed, decode(typed, tc.body, tc.ct))
			assert.NotEqual(t, "about:blank", p.Type)
			assert.Equal(t, tc.title, p.Title)
		})
	}
	_, p := writeProblem(t, plain, errors.New("db password is hunter2"))
	assert.Equal(t, "Internal Server Error", p.Title)
	assert.Empty(t, p.Detail)
}
