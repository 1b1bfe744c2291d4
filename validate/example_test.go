package validate_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/validate"
)

// Signup is a request body: its rules are Go code, named by the JSON
// member names.
type Signup struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Age      int      `json:"age"`
	Nickname *string  `json:"nickname"`
	Tags     []string `json:"tags"`
}

func (s *Signup) Validate(v *validate.Validator) {
	v.String("email", s.Email).Required().Email()
	v.String("name", s.Name).Required().Runes(2, 50)
	validate.Number(v, "age", s.Age).Between(0, 130)
	v.StringPtr("nickname", s.Nickname).NotBlank().MaxRunes(20)
	validate.Slice(v, "tags", s.Tags).MaxItems(3).Each(func(v *validate.Validator, tag string) {
		v.String("", tag).Required().MaxRunes(20)
	})
}

func Example() {
	checker, err := validate.New(validate.Config{})
	if err != nil {
		panic(err)
	}
	err = checker.Check(&Signup{Email: "ada@example", Name: "A", Age: 200, Tags: []string{"ok", ""}})

	var verrs *validate.Errors
	if errors.As(err, &verrs) {
		for _, v := range verrs.Violations {
			fmt.Printf("%s %s: %s\n", v.Path.Pointer(), v.Code, v.Message(nil))
		}
	}
	// Output:
	// /email invalid_email: must be a valid email address
	// /name too_short: must be at least 2 characters long
	// /age out_of_range: must be between 0 and 130
	// /tags/1 required: is required
}

func ExampleChecker_DecodeJSON() {
	checker, _ := validate.New(validate.Config{})
	body := `{"email":"ada@example.com","EMAIL":"eve@example.com","name":"Ada","name":"Eve","age":"36"}`
	r := httptest.NewRequest("POST", "/signup", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")

	var s Signup
	err := checker.DecodeJSON(r, &s)

	rec := httptest.NewRecorder()
	checker.WriteProblem(rec, err)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body.String())
	// Output:
	// 400 application/problem+json
	// {"detail":"The request body does not have the expected shape: 3 mismatches.","errors":[{"pointer":"/EMAIL","code":"field_case_mismatch","detail":"is not a known field; field names are case-sensitive, did you mean email?","params":{"expected":"email"}},{"pointer":"/name","code":"duplicate_key","detail":"appears more than once"},{"pointer":"/age","code":"invalid_type","detail":"must be an integer, not a string","params":{"actual":"a string","expected":"an integer"}}],"status":400,"title":"Bad Request","type":"about:blank"}
}

// HandlerFunc lets a handler end with `return err`: a returned error
// becomes the problem response the Checker writes.
func ExampleChecker_HandlerFunc() {
	checker, _ := validate.New(validate.Config{})
	signup := checker.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var s Signup
		if err := checker.DecodeJSON(r, &s); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	})

	for _, body := range []string{`{"email":"ada@example.com","name":"Ada"}`, `{"email":"ada@example.com","name":"A"}`} {
		r := httptest.NewRequest("POST", "/signup", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		signup.ServeHTTP(rec, r)
		fmt.Printf("%d %q\n", rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// 201 ""
	// 422 "application/problem+json"
}

// Event shows rules across members: an end after its start, and exactly
// one of two ways to be reached.
type Event struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Email string    `json:"email"`
	Phone string    `json:"phone"`
}

func (e *Event) Validate(v *validate.Validator) {
	v.Time("start", e.Start).Required()
	v.Time("end", e.End).Required().AfterField("start", e.Start)
	v.ExactlyOne(validate.Has("email", e.Email != ""), validate.Has("phone", e.Phone != ""))
}

func ExampleValidator_ExactlyOne() {
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	err := validate.Check(&Event{Start: start, End: start.Add(-time.Hour)})
	fmt.Println(err)
	// Output:
	// validate: 2 violations
	//	end: must be after start
	//	exactly one of email, phone is required
}

func ExampleTemplates() {
	french := validate.Templates{
		validate.CodeTooLong: "doit faire au plus {max} caractères",
	}
	err := validate.Check(&Signup{Email: "ada@example.com", Name: strings.Repeat("é", 51)})
	var verrs *validate.Errors
	errors.As(err, &verrs)
	fmt.Println(verrs.Violations[0].Message(french))
	// Output:
	// doit faire au plus 50 caractères
}

func ExamplePath() {
	p := validate.Path{validate.Key("items"), validate.Index(2), validate.Key("sku"), validate.Key("a/b")}
	fmt.Println(p.String())
	fmt.Println(p.Pointer())
	// Output:
	// items[2].sku["a/b"]
	// /items/2/sku/a~1b
}

// Profile shows the difference between absent and zero: a PATCH body where
// "bio" may be left out, but, when sent, may be set to "" to clear it.
type Profile struct {
	Bio   *string `json:"bio"`
	Limit *int    `json:"limit"`
}

func (p *Profile) Validate(v *validate.Validator) {
	v.StringPtr("bio", p.Bio).MaxRunes(160) // absent or "" are both fine
	validate.NumberPtr(v, "limit", p.Limit).Present().Between(0, 100)
}

func ExampleNumberPtr() {
	checker, _ := validate.New(validate.Config{})
	for _, body := range []string{`{"bio":""}`, `{"limit":0}`, `{"limit":null}`} {
		var p Profile
		err := checker.Unmarshal([]byte(body), &p)
		fmt.Printf("%-15s %v\n", body, err)
	}
	// Output:
	// {"bio":""}      validate: limit: is required
	// {"limit":0}     <nil>
	// {"limit":null}  validate: limit: is required
}

func ExampleCheckFieldNames() {
	fmt.Println(validate.CheckFieldNames(&Signup{}))
	fmt.Println(validate.CheckFieldNames(&misnamed{}))
	// Output:
	// <nil>
	// validate: rules of validate_test.misnamed use member names its JSON does not have: "Email" "nmae"
}

func ExampleProblem() {
	err := validate.Check(&Signup{Email: "ada@example.com", Name: "Ada", Age: -1})
	p := validate.Problem(err)
	fmt.Println(p.Status, p.Title+":", p.Detail)
	for _, e := range p.Errors {
		fmt.Println(e.Pointer, e.Code, e.Params, e.Detail)
	}
	// Output:
	// 422 Unprocessable Content: Your request is not valid: 1 broken rule.
	// /age out_of_range map[max:130 min:0] must be between 0 and 130
}
