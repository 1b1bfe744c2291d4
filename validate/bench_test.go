package validate_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bedrock-go/bedrock/validate"
)

func BenchmarkCheck(b *testing.B) {
	c := mustChecker(b, validate.Config{})
	for _, bc := range []struct {
		name string
		s    *Signup
	}{{"valid", validSignup()}, {"invalid", invalidSignup()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.Check(bc.s)
			}
		})
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	c := mustChecker(b, validate.Config{})
	body := []byte(`{"email":"ada@example.com","name":"Ada Lovelace","age":36,"nickname":"ada","tags":["math","engines","poetry"]}`)
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			var s Signup
			if err := c.DecodeJSON(r, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var s Signup
			if err := c.Unmarshal(body, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPathPointer(b *testing.B) {
	p := validate.Path{validate.Key("items"), validate.Index(12), validate.Key("sku")}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Pointer()
	}
}

func BenchmarkProblem(b *testing.B) {
	err := validate.Check(invalidSignup())
	b.ReportAllocs()
	for b.Loop() {
		validate.WriteProblem(httptest.NewRecorder(), err)
	}
}
