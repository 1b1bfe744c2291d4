package validate_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/validate"
)

func TestNew_ValidatesConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  validate.Config
		ok   bool
	}{
		{"zero", validate.Config{}, true},
		{"all set", validate.Config{MaxBodyBytes: 10, MaxDepth: 5, MaxViolations: 3, ProblemTypeBase: "https://example.com/problems/"}, true},
		{"negative body", validate.Config{MaxBodyBytes: -1}, false},
		{"negative depth", validate.Config{MaxDepth: -1}, false},
		{"huge depth", validate.Config{MaxDepth: 10_001}, false},
		{"negative violations", validate.Config{MaxViolations: -1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := validate.New(tc.cfg)
			if tc.ok {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Nil(t, c)
		})
	}
}

func validSignup() *Signup {
	return &Signup{Email: "ada@example.com", Name: "Ada Lovelace", Age: 36, Tags: []string{"math", "engines", "poetry"}}
}

func invalidSignup() *Signup {
	return &Signup{Email: "ada@", Name: "A", Age: 200, Tags: []string{"math", strings.Repeat("x", 21), "a", "b"}}
}

func TestChecker_ValidValueCostsNoAllocation(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	s := validSignup()
	require.NoError(t, c.Check(s))
	allocs := testing.AllocsPerRun(200, func() {
		if c.Check(s) != nil {
			t.Fatal("unexpected violation")
		}
	})
	assert.LessOrEqual(t, allocs, allocBudget(0))
}

func TestChecker_InvalidValueAllocationBudget(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	s := invalidSignup()
	require.Error(t, c.Check(s))
	allocs := testing.AllocsPerRun(200, func() { _ = c.Check(s) })
	// Errors, its violations, one shared path array and one shared param
	// array; the params (2, 50, 130, 3) box without allocating.
	assert.LessOrEqual(t, allocs, allocBudget(4))
}

func TestChecker_ZeroValueIsUsable(t *testing.T) {
	var c validate.Checker
	require.NoError(t, c.Check(validSignup()))
	require.Error(t, c.Check(invalidSignup()))
	var o order
	require.NoError(t, c.Unmarshal([]byte(`{"email":"a"}`), &o))
}

func TestChecker_ConcurrentUseIsSafe(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if (g+i)%2 == 0 {
					if c.Check(validSignup()) != nil {
						failures.Add(1)
					}
					continue
				}
				var verrs *validate.Errors
				if !errors.As(c.Check(invalidSignup()), &verrs) || !verrs.Has("tags", validate.CodeTooManyItems) || !verrs.Has("age", validate.CodeOutOfRange) {
					failures.Add(1)
				}
				var o order
				if c.Unmarshal([]byte(fmt.Sprintf(`{"email":"%d","age":%d}`, i, g)), &o) != nil || o.Age != int8(g) {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, failures.Load())
}

func TestChecker_MaxViolationsTruncates(t *testing.T) {
	c := mustChecker(t, validate.Config{MaxViolations: 2})
	err := c.Check(invalidSignup())
	var verrs *validate.Errors
	require.ErrorAs(t, err, &verrs)
	assert.Len(t, verrs.Violations, 2)
	assert.True(t, verrs.Truncated)
	assert.Contains(t, err.Error(), "truncated")
}

func TestChecker_Hooks(t *testing.T) {
	var invalid, decode atomic.Int64
	c := mustChecker(t, validate.Config{Hooks: validate.Hooks{
		OnInvalid:     func(e *validate.Errors) { invalid.Add(int64(len(e.Violations))) },
		OnDecodeError: func(e *validate.DecodeError) { decode.Add(1) },
	}})
	require.NoError(t, c.Check(validSignup()))
	require.Error(t, c.Check(invalidSignup()))
	var s Signup
	require.Error(t, c.Unmarshal([]byte(`{"x":1}`), &s))
	require.Error(t, c.DecodeJSON(newRequest(`{}`, "text/plain"), &s))
	assert.Equal(t, int64(4), invalid.Load())
	assert.Equal(t, int64(2), decode.Load())
}

func TestCheck_PackageFunction(t *testing.T) {
	require.NoError(t, validate.Check(validSignup()))
	err := validate.Check(invalidSignup())
	var verrs *validate.Errors
	require.ErrorAs(t, err, &verrs)
	var got []string
	for _, v := range verrs.Violations {
		got = append(got, v.Path.String()+" "+v.Code)
	}
	assert.Equal(t, []string{"email invalid_email", "name too_short", "age out_of_range", "tags too_many_items"}, got)
}

type lineItem struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

func (l lineItem) Validate(v *validate.Validator) {
	v.String("sku", l.SKU).Match(skuPattern)
	validate.Number(v, "qty", l.Qty).Positive()
}

type shipping struct {
	City string `json:"city"`
}

func (s *shipping) Validate(v *validate.Validator) { v.String("city", s.City).Required() }

type purchase struct {
	Items    []lineItem        `json:"items"`
	Shipping *shipping         `json:"shipping"`
	Billing  *shipping         `json:"billing"`
	Meta     map[string]string `json:"meta"`
}

func (p *purchase) Validate(v *validate.Validator) {
	validate.Slice(v, "items", p.Items).Required().Each(func(v *validate.Validator, it lineItem) { it.Validate(v) })
	validate.UniqueBy(validate.Slice(v, "items", p.Items), func(it lineItem) string { return it.SKU })
	if validate.Present(v, "shipping", p.Shipping) {
		validate.NestedPtr(v, "shipping", p.Shipping)
	}
	validate.NestedPtr(v, "billing", p.Billing)
	validate.Map(v, "meta", p.Meta).Values(func(v *validate.Validator, s string) { v.String("", s).MaxBytes(3) })
}

func TestNestedPaths(t *testing.T) {
	p := &purchase{
		Items:   []lineItem{{"ABC-0001", 1}, {"bad", 0}, {"ABC-0001", 2}},
		Billing: &shipping{},
		Meta:    map[string]string{"x.y": "long"},
	}
	err := validate.Check(p)
	var verrs *validate.Errors
	require.ErrorAs(t, err, &verrs)
	var got []string
	for _, v := range verrs.Violations {
		got = append(got, v.Path.String()+" "+v.Path.Pointer()+" "+v.Code)
	}
	assert.Equal(t, []string{
		"items[1].sku /items/1/sku pattern",
		"items[1].qty /items/1/qty not_positive",
		"items[2] /items/2 duplicate",
		"shipping /shipping required",
		"billing.city /billing/city required",
		`meta["x.y"] /meta/x.y too_many_bytes`,
	}, got)
	require.NoError(t, validate.CheckFieldNames(p))
}

type misnamed struct {
	Email string `json:"email_address"`
	Name  string `json:"name"`
}

func (m *misnamed) Validate(v *validate.Validator) {
	v.String("Email", m.Email).Required()
	v.String("name", m.Name).Required()
	v.String("nmae", m.Name).Required()
}

func TestCheckFieldNames(t *testing.T) {
	err := validate.CheckFieldNames(&misnamed{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"Email"`)
	assert.Contains(t, err.Error(), `"nmae"`)
	assert.NotContains(t, err.Error(), `"name"`)
	require.NoError(t, validate.CheckFieldNames(&Signup{}))
	require.NoError(t, validate.CheckFieldNames(&Event{}))
}

func TestChecker_ValidNestedMapTimeAndCrossFieldCostNoAllocation(t *testing.T) {
	c := mustChecker(t, validate.Config{})
	p := &purchase{
		Items:    []lineItem{{"ABC-0001", 1}, {"ABC-0002", 2}},
		Shipping: &shipping{City: "Oslo"},
		Meta:     map[string]string{"a": "x", "b": "y"},
	}
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	e := &Event{Start: start, End: start.Add(time.Hour), Email: "ada@example.com"}
	for name, x := range map[string]validate.Validatable{"purchase": p, "event": e} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, c.Check(x))
			assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = c.Check(x) }), allocBudget(0))
		})
	}
}

// allocBudget is n, plus room under the race detector, whose sync.Pool
// drops a quarter of what it is given: a pooled Validator and its buffers
// are then made anew.
func allocBudget(n float64) float64 {
	if raceEnabled {
		return n + 3
	}
	return n
}
