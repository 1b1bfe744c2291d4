package benchmarks

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	validation "github.com/go-ozzo/ozzo-validation/v4"
	"github.com/go-ozzo/ozzo-validation/v4/is"
	"github.com/go-playground/validator/v10"

	"github.com/bedrock-go/bedrock/validate"
)

// The same request body, validated by the same rules in each library:
// email required and well-formed, name 2–50 characters, age 0–130, at most
// 3 tags of at most 20 characters each.

type brUser struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Age   int      `json:"age"`
	Tags  []string `json:"tags"`
}

func (u *brUser) Validate(v *validate.Validator) {
	v.String("email", u.Email).Required().Email()
	v.String("name", u.Name).Required().Runes(2, 50)
	validate.Number(v, "age", u.Age).Between(0, 130)
	validate.Slice(v, "tags", u.Tags).MaxItems(3).Each(func(v *validate.Validator, tag string) {
		v.String("", tag).MaxRunes(20)
	})
}

type pgUser struct {
	Email string   `json:"email" validate:"required,email"`
	Name  string   `json:"name" validate:"required,min=2,max=50"`
	Age   int      `json:"age" validate:"gte=0,lte=130"`
	Tags  []string `json:"tags" validate:"max=3,dive,max=20"`
}

type ozUser struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Age   int      `json:"age"`
	Tags  []string `json:"tags"`
}

func (u *ozUser) Validate() error {
	return validation.ValidateStruct(u,
		validation.Field(&u.Email, validation.Required, is.EmailFormat),
		validation.Field(&u.Name, validation.Required, validation.RuneLength(2, 50)),
		validation.Field(&u.Age, validation.Min(0), validation.Max(130)),
		validation.Field(&u.Tags, validation.Length(0, 3), validation.Each(validation.RuneLength(0, 20))),
	)
}

type userData struct {
	email, name string
	age         int
	tags        []string
}

var (
	validUser   = userData{"ada@example.com", "Ada Lovelace", 36, []string{"math", "engines", "poetry"}}
	invalidUser = userData{"ada@", "A", 200, []string{"math", strings.Repeat("x", 21), "a", "b"}}
)

func benchValidate(b *testing.B, d userData, wantValid bool) {
	checker, err := validate.New(validate.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pg := validator.New(validator.WithRequiredStructEnabled())

	br := &brUser{d.email, d.name, d.age, d.tags}
	pu := &pgUser{d.email, d.name, d.age, d.tags}
	oz := &ozUser{d.email, d.name, d.age, d.tags}

	// Each library must reach the same verdict, or the timings compare
	// different work.
	for name, err := range map[string]error{"bedrock": checker.Check(br), "playground": pg.Struct(pu), "ozzo": oz.Validate()} {
		if (err == nil) != wantValid {
			b.Fatalf("%s: valid=%v, want %v (%v)", name, err == nil, wantValid, err)
		}
	}

	b.Run("bedrock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = checker.Check(br)
		}
	})
	b.Run("playground", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = pg.Struct(pu)
		}
	})
	b.Run("ozzo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = oz.Validate()
		}
	})
}

func BenchmarkValidateValid(b *testing.B)   { benchValidate(b, validUser, true) }
func BenchmarkValidateInvalid(b *testing.B) { benchValidate(b, invalidUser, false) }

// BenchmarkValidateDecodeJSON prices the strict decoding: DecodeJSON (content type,
// size limit, strict walk, decode, then the rules) against the usual
// hand-rolled handler code, encoding/json with DisallowUnknownFields
// followed by go-playground/validator, which lets duplicate members and
// case-folded names through.
func BenchmarkValidateDecodeJSON(b *testing.B) {
	body := []byte(`{"email":"ada@example.com","name":"Ada Lovelace","age":36,"tags":["math","engines","poetry"]}`)
	newReq := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	checker, err := validate.New(validate.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pg := validator.New(validator.WithRequiredStructEnabled())
	b.Run("bedrock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var u brUser
			if err := checker.DecodeJSON(newReq(), &u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("playground", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := newReq()
			dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
			dec.DisallowUnknownFields()
			var u pgUser
			if err := dec.Decode(&u); err != nil {
				b.Fatal(err)
			}
			if err := pg.Struct(&u); err != nil {
				b.Fatal(err)
			}
		}
	})
}
