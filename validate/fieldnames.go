package validate

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// CheckFieldNames runs x's rules once, recording the member names they use
// at the top level, and returns an error naming each one that is not a
// JSON member name of x's struct type (after json tags, as encoding/json
// reads them). Rules name members by hand, so a typo or a Go field name
// where a json tag differs would otherwise put violations at a path the
// client never sent. Call it in a test, once per Validatable type:
//
//	func TestSignupFieldNames(t *testing.T) {
//		if err := validate.CheckFieldNames(&Signup{}); err != nil {
//			t.Fatal(err)
//		}
//	}
func CheckFieldNames(x Validatable) error {
	t := reflect.TypeOf(x)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return fmt.Errorf("validate: CheckFieldNames needs a struct or a pointer to one, not %T", x)
	}
	s := buildSchema(t, map[reflect.Type]*schema{})
	var names []string
	v := Validator{names: &names}
	x.Validate(&v)
	var bad []string
	for _, n := range names {
		if _, ok := s.fields[n]; !ok && !slices.Contains(bad, n) {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "validate: rules of %s use member names its JSON does not have:", t)
	for _, n := range bad {
		fmt.Fprintf(&b, " %q", n)
		if exact, ok := s.folded[strings.ToLower(n)]; ok {
			fmt.Fprintf(&b, " (did you mean %q?)", exact)
		}
	}
	return fmt.Errorf("%s", b.String())
}
