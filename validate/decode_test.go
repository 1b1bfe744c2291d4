package validate_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

type address struct {
	City string `json:"city"`
	Zip  string `json:"zip"`
}

type Base struct {
	ID string `json:"id"`
}

type item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

type order struct {
	Base
	Email  string            `json:"email"`
	Age    int8              `json:"age"`
	Count  uint              `json:"count"`
	Price  float32           `json:"price"`
	Nick   *string           `json:"nick"`
	Items  []item            `json:"items"`
	Labels map[string]string `json:"labels"`
	ByID   map[int]string    `json:"by_id"`
	Pair   [2]int            `json:"pair"`
	When   time.Time         `json:"when"`
	Raw    json.RawMessage   `json:"raw"`
	Any    any               `json:"any"`
	Blob   []byte            `json:"blob"`
	Quoted int               `json:"quoted,string"`
	Hidden string            `json:"-"`
	NoTag  string
	Addr   *address    `json:"addr"`
	Num    json.Number `json:"num"`
	Next   *order      `json:"next"`
}

func newRequest(body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func mustChecker(t testing.TB, cfg validate.Config) *validate.Checker {
	t.Helper()
	c, err := validate.New(cfg)
	require.NoError(t, err)
	return c
}

// pointers lists "pointer code" for each violation of a decode error.
func pointers(t *testing.T, err error) []string {
	t.Helper()
	var de *validate.DecodeError
	require.ErrorAs(t, err, &de)
	var out []string
	for _, v := range de.Violations {
		out = append(out, v.Path.Pointer()+" "+v.Code)
	}
	return out
}

func TestDecodeJSON_AcceptsWhatEncodingJSONDecodes(t *testing.T) {
	body := `{
		"id": "o-1", "email": "a@example.com", "age": -5, "count": 3, "price": 1.5e2,
		"nick": null, "items": [{"sku": "A", "qty": 2}], "labels": {"env": "prod", "a\u0062": "x"},
		"by_id": {"7": "seven"}, "pair": [1, 2], "when": "2026-01-02T03:04:05Z",
		"raw": {"anything": [1, {"x": null}]}, "any": [true, "x"], "blob": "aGk=",
		"quoted": "42", "NoTag": "t", "addr": {"city": "Oslo", "zip": "0150"}, "num": 1e400,
		"next": {"id": "o-2", "next": null}
	}`
	c := mustChecker(t, validate.Config{})
	var got order
	require.NoError(t, c.Unmarshal([]byte(body), &got))
	var want order
	require.NoError(t, json.Unmarshal([]byte(body), &want))
	assert.Equal(t, want, got)
	assert.Equal(t, "o-1", got.ID)
	assert.Equal(t, 42, got.Quoted)
	assert.Equal(t, "o-2", got.Next.ID)
}

func TestDecodeJSON_RefusesWhatEncodingJSONLetsThrough(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []string
	}{
		{"unknown member", `{"email":"a@example.com","admin":true}`, []string{"/admin unknown_field"}},
		{"case folding attack", `{"EMAIL":"a@example.com"}`, []string{"/EMAIL field_case_mismatch"}},
		{"case folding in nested object", `{"addr":{"City":"Oslo"}}`, []string{"/addr/City field_case_mismatch"}},
		{"Go field name without tag is exact", `{"notag":"x"}`, []string{"/notag field_case_mismatch"}},
		{"hidden field is unknown", `{"Hidden":"x"}`, []string{"/Hidden unknown_field"}},
		{"duplicate member", `{"email":"a@example.com","email":"root@example.com"}`, []string{"/email duplicate_key"}},
		{"duplicate through an escape", `{"email":"a","\u0065mail":"b"}`, []string{"/email duplicate_key"}},
		{"duplicate in a map", `{"labels":{"a":"1","a":"2"}}`, []string{"/labels/a duplicate_key"}},
		{"duplicate in free-form JSON", `{"raw":{"x":1,"x":2}}`, []string{"/raw/x duplicate_key"}},
		{"duplicate in a large object", `{"raw":{` + manyMembers(40) + `,"k7":0}}`, []string{"/raw/k7 duplicate_key"}},
		{"string for number", `{"age":"36"}`, []string{"/age invalid_type"}},
		{"number for string", `{"email":5}`, []string{"/email invalid_type"}},
		{"object for array", `{"items":{}}`, []string{"/items invalid_type"}},
		{"array for object", `{"addr":[]}`, []string{"/addr invalid_type"}},
		{"bool for number", `{"count":true}`, []string{"/count invalid_type"}},
		{"fraction for integer", `{"age":1.5}`, []string{"/age invalid_type"}},
		{"exponent for integer", `{"age":1e2}`, []string{"/age invalid_type"}},
		{"int8 overflow", `{"age":128}`, []string{"/age number_out_of_range"}},
		{"negative for uint", `{"count":-1}`, []string{"/count number_out_of_range"}},
		{"float32 overflow", `{"price":1e39}`, []string{"/price number_out_of_range"}},
		{"null for a string", `{"email":null}`, []string{"/email invalid_type"}},
		{"null for an array element", `{"items":[null]}`, []string{"/items/0 invalid_type"}},
		{"nested element path", `{"items":[{"sku":"A","qty":1},{"sku":"B","qty":"x"}]}`, []string{"/items/1/qty invalid_type"}},
		{"recursive type", `{"next":{"next":{"email":1}}}`, []string{"/next/next/email invalid_type"}},
		{"map with integer keys", `{"by_id":{"seven":"7"}}`, []string{"/by_id/seven invalid_type"}},
		{"array too long", `{"pair":[1,2,3]}`, []string{"/pair too_many_items"}},
		{"bad time", `{"when":"yesterday"}`, []string{"/when invalid_datetime"}},
		{"bad base64", `{"blob":"!!"}`, []string{"/blob invalid_value"}},
		{"quoted not a number", `{"quoted":"x"}`, []string{"/quoted invalid_type"}},
		{"quoted needs a string", `{"quoted":42}`, []string{"/quoted invalid_type"}},
		{"number type refuses a string", `{"num":"1"}`, []string{"/num invalid_type"}},
		{"pointer escaping", `{"labels":{"a/b~c":1}}`, []string{"/labels/a~1b~0c invalid_type"}},
		{"all problems at once", `{"EMAIL":"x","age":"1","age":2,"zzz":0}`,
			[]string{"/EMAIL field_case_mismatch", "/age invalid_type", "/age duplicate_key", "/zzz unknown_field"}},
	}
	c := mustChecker(t, validate.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o order
			err := c.DecodeJSON(newRequest(tc.body, "application/json"), &o)
			require.ErrorIs(t, err, validate.ErrSchemaMismatch)
			assert.Equal(t, tc.want, pointers(t, err))
			var de *validate.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, http.StatusBadRequest, de.Status)
			assert.Equal(t, order{}, o, "a refused body must not be half-decoded into dst")
		})
	}
}

func manyMembers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"k` + string(rune('0'+i%10)) + string(rune('a'+i/10)) + `":0`
	}
	parts[3] = `"k7":0` // the caller repeats it past the linear-scan limit

	return strings.Join(parts, ",")
}

func TestDecodeJSON_Malformed(t *testing.T) {
	cases := []struct {
		name string
		body string
		want error
	}{
		{"empty", ``, validate.ErrMalformedJSON},
		{"only space", " \n\t", validate.ErrMalformedJSON},
		{"trailing value", `{"email":"a"} {"email":"b"}`, validate.ErrMalformedJSON},
		{"trailing garbage", `{} x`, validate.ErrMalformedJSON},
		{"truncated", `{"email":"a"`, validate.ErrMalformedJSON},
		{"trailing comma", `{"email":"a",}`, validate.ErrMalformedJSON},
		{"single quotes", `{'email':'a'}`, validate.ErrMalformedJSON},
		{"leading zero", `{"age":01}`, validate.ErrMalformedJSON},
		{"bare minus", `{"age":-}`, validate.ErrMalformedJSON},
		{"NaN", `{"price":NaN}`, validate.ErrMalformedJSON},
		{"invalid utf-8", "{\"email\":\"a\xffb\"}", validate.ErrMalformedJSON},
		{"lone high surrogate", `{"email":"\ud800"}`, validate.ErrMalformedJSON},
		{"lone low surrogate", `{"email":"\udc00x"}`, validate.ErrMalformedJSON},
		{"raw control character", "{\"email\":\"a\nb\"}", validate.ErrMalformedJSON},
		{"bad escape", `{"email":"\x41"}`, validate.ErrMalformedJSON},
		{"byte order mark", "\ufeff{}", validate.ErrMalformedJSON},
		{"too deep", strings.Repeat(`{"raw":`, 3) + strings.Repeat("[", 40) + strings.Repeat("]", 40) + strings.Repeat("}", 3), validate.ErrTooDeep},
	}
	c := mustChecker(t, validate.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o order
			err := c.DecodeJSON(newRequest(tc.body, "application/json"), &o)
			require.ErrorIs(t, err, tc.want)
			var de *validate.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, http.StatusBadRequest, de.Status)
			assert.GreaterOrEqual(t, de.Offset, int64(0))
			assert.Equal(t, order{}, o)
		})
	}
}

func TestDecodeJSON_DepthLimitIsConfigurable(t *testing.T) {
	c := mustChecker(t, validate.Config{MaxDepth: 3})
	var v any
	require.NoError(t, c.Unmarshal([]byte(`[[[1]]]`), &v))
	require.ErrorIs(t, c.Unmarshal([]byte(`[[[[1]]]]`), &v), validate.ErrTooDeep)
	require.ErrorIs(t, c.Unmarshal([]byte(`{"a":{"b":{"c":{}}}}`), &v), validate.ErrTooDeep)
}

func TestDecodeJSON_ContentType(t *testing.T) {
	cases := []struct {
		ct string
		ok bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON; charset=UTF-8", true},
		{"application/problem+json", true},
		{"application/json; charset=latin1", false},
		{"text/plain", false},
		{"application/x-www-form-urlencoded", false},
		{"text/json", false},
		{"application/jsonp", false},
		{"", false},
		{"application/json; charset", false},
	}
	c := mustChecker(t, validate.Config{})
	for _, tc := range cases {
		t.Run(tc.ct, func(t *testing.T) {
			var o order
			err := c.DecodeJSON(newRequest(`{}`, tc.ct), &o)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, validate.ErrUnsupportedMediaType)
			assert.Equal(t, http.StatusUnsupportedMediaType, validate.Problem(err).Status)
		})
	}
}

func TestDecodeJSON_BodyLimit(t *testing.T) {
	c := mustChecker(t, validate.Config{MaxBodyBytes: 32})
	atLimit := `{"email":"` + strings.Repeat("a", 20) + `"}`
	require.Len(t, atLimit, 32)
	var o order
	require.NoError(t, c.DecodeJSON(newRequest(atLimit, "application/json"), &o))

	over := `{"email":"` + strings.Repeat("a", 21) + `"}`
	t.Run("declared length refused before reading", func(t *testing.T) {
		r := newRequest(over, "application/json")
		body := &countingReader{r: strings.NewReader(over)}
		r.Body = io.NopCloser(body)
		err := c.DecodeJSON(r, &o)
		require.ErrorIs(t, err, validate.ErrBodyTooLarge)
		assert.Zero(t, body.n, "no byte read")
		assert.Equal(t, http.StatusRequestEntityTooLarge, validate.Problem(err).Status)
	})
	t.Run("unknown length cut at the limit", func(t *testing.T) {
		r := newRequest("", "application/json")
		r.ContentLength = -1
		r.Body = io.NopCloser(strings.NewReader(over + strings.Repeat(" ", 1<<20)))
		require.ErrorIs(t, c.DecodeJSON(r, &o), validate.ErrBodyTooLarge)
	})
	t.Run("unmarshal applies the limit too", func(t *testing.T) {
		require.ErrorIs(t, c.Unmarshal([]byte(over), &o), validate.ErrBodyTooLarge)
	})
	t.Run("default is 1 MiB", func(t *testing.T) {
		d := mustChecker(t, validate.Config{})
		big := `"` + strings.Repeat("a", 1<<20) + `"`
		var s string
		require.ErrorIs(t, d.Unmarshal([]byte(big), &s), validate.ErrBodyTooLarge)
		require.NoError(t, d.Unmarshal([]byte(big[:1<<20-2]+`"`), &s))
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestDecodeJSON_ReadErrorIsWrapped(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	r := newRequest("", "application/json")
	r.ContentLength = -1
	r.Body = io.NopCloser(failingReader{})
	var o order
	err := c.DecodeJSON(r, &o)
	require.ErrorIs(t, err, validate.ErrReadBody)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	p := validate.Problem(err)
	assert.Equal(t, http.StatusBadRequest, p.Status)
	assert.Equal(t, "Bad Request", p.Title)
	assert.Equal(t, "The request body could not be read.", p.Detail, "not the read error, which may describe the server's side")
}

func TestDecodeJSON_RefusesContentEncoding(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	for _, tc := range []struct {
		enc string
		ok  bool
	}{{"", true}, {"identity", true}, {"gzip", false}, {"br", false}} {
		t.Run(tc.enc, func(t *testing.T) {
			r := newRequest(`{}`, "application/json")
			if tc.enc != "" {
				r.Header.Set("Content-Encoding", tc.enc)
			}
			var o order
			err := c.DecodeJSON(r, &o)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, validate.ErrUnsupportedMediaType)
			assert.Equal(t, http.StatusUnsupportedMediaType, validate.Problem(err).Status)
		})
	}
}

func TestDecodeJSON_InvalidTarget(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	var o order
	for name, dst := range map[string]any{"nil": nil, "non-pointer": o, "nil pointer": (*order)(nil)} {
		t.Run(name, func(t *testing.T) {
			err := c.DecodeJSON(newRequest(`{}`, "application/json"), dst)
			require.ErrorIs(t, err, validate.ErrInvalidTarget)
			assert.Equal(t, http.StatusInternalServerError, validate.Problem(err).Status)
		})
	}
}

func TestDecodeJSON_ThenValidates(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	var s Signup
	err := c.DecodeJSON(newRequest(`{"email":"nope","name":"Ada","age":36}`, "application/json"), &s)
	var verrs *validate.Errors
	require.ErrorAs(t, err, &verrs)
	assert.True(t, verrs.Has("email", validate.CodeEmail))
	assert.Equal(t, http.StatusUnprocessableEntity, validate.Problem(err).Status)

	s = Signup{}
	require.NoError(t, c.DecodeJSON(newRequest(`{"email":"ada@example.com","name":"Ada","age":36,"nickname":"","tags":["x"]}`, "application/json"), &s))
	require.NotNil(t, s.Nickname, "present and empty stays distinct from absent")
}

type strictEnum string

func (e *strictEnum) UnmarshalJSON(b []byte) error {
	if string(b) != `"on"` && string(b) != `"off"` {
		return errors.New("must be on or off")
	}
	*e = strictEnum(strings.Trim(string(b), `"`))
	return nil
}

func TestDecodeJSON_CustomUnmarshalerErrorBecomesViolation(t *testing.T) {
	type settings struct {
		Mode strictEnum `json:"mode"`
	}
	c := mustChecker(t, validate.Config{})
	var s settings
	err := c.Unmarshal([]byte(`{"mode":"dim"}`), &s)
	require.ErrorIs(t, err, validate.ErrSchemaMismatch)
	var de *validate.DecodeError
	require.ErrorAs(t, err, &de)
	require.Len(t, de.Violations, 1)
	assert.Equal(t, validate.CodeInvalidValue, de.Violations[0].Code)
	assert.Contains(t, de.Violations[0].Message(nil), "must be on or off")
	require.NoError(t, c.Unmarshal([]byte(`{"mode":"on"}`), &s))
	assert.Equal(t, strictEnum("on"), s.Mode)
}

func TestDecodeJSON_MaxViolationsBoundsTheReport(t *testing.T) {
	c := mustChecker(t, validate.Config{MaxViolations: 5})
	var nums []int
	body := "[" + strings.TrimSuffix(strings.Repeat(`"x",`, 1000), ",") + "]"
	err := c.Unmarshal([]byte(body), &nums)
	var de *validate.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Len(t, de.Violations, 5)
	assert.True(t, de.Truncated)
	assert.Contains(t, validate.Problem(err).Detail, "left out")
}

func TestDecodeJSON_ZeroCheckerDecodes(t *testing.T) {
	var c validate.Checker
	var o order
	require.NoError(t, c.DecodeJSON(newRequest(`{"email":"a"}`, "application/json"), &o))
	assert.Equal(t, "a", o.Email)
}

func TestDecodeJSON_EmbeddedFieldConflicts(t *testing.T) {
	type A struct {
		Name string
		X    int
	}
	type B struct {
		Name string
		X    int `json:"X"`
	}
	type outer struct {
		A
		B
		Own string `json:"own"`
	}
	c := mustChecker(t, validate.Config{})
	var o outer
	// "Name" is untagged at the same depth in A and B: encoding/json drops it.
	err := c.Unmarshal([]byte(`{"Name":"x"}`), &o)
	assert.Equal(t, []string{"/Name unknown_field"}, pointers(t, err))
	// "X" is tagged only in B: B's wins.
	require.NoError(t, c.Unmarshal([]byte(`{"X":1,"own":"y"}`), &o))
	assert.Equal(t, 1, o.B.X)
}

func TestDecodeJSON_NoBody(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	r := httptest.NewRequest(http.MethodPost, "/", http.NoBody)
	r.Header.Set("Content-Type", "application/json")
	var o order
	require.ErrorIs(t, c.DecodeJSON(r, &o), validate.ErrMalformedJSON)
}

func TestDecode_Generic(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	s, err := validate.Decode[Signup](c, newRequest(`{"email":"ada@example.com","name":"Ada"}`, "application/json"))
	require.NoError(t, err)
	assert.Equal(t, "Ada", s.Name)
	_, err = validate.Decode[Signup](c, newRequest(`{"email":"ada@example.com","name":"A"}`, "application/json"))
	var verrs *validate.Errors
	require.ErrorAs(t, err, &verrs)
	assert.True(t, verrs.Has("name", validate.CodeTooShort))
}

type selfPointer *selfPointer

func TestDecodeJSON_CycleOfPointerTypesDoesNotHang(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	var p selfPointer
	err := c.Unmarshal([]byte(`{}`), &p)
	require.ErrorIs(t, err, validate.ErrSchemaMismatch)
}
