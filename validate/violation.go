package validate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Param is one named parameter of a [Violation], such as {"max": 50}. It
// is a slice element rather than a map entry so that its order is stable.
type Param struct {
	Name  string
	Value any
}

// Violation is one broken rule: where (Path), what (Code, stable and meant
// for machines), with which parameters (Params), and an English message
// template for people.
type Violation struct {
	Path   Path
	Code   string
	Params []Param
	// Template is the English message, with {name} standing for the value
	// of the parameter called name. Use [Violation.Message] to render it.
	Template string
}

// Param returns the value of the named parameter and whether it exists.
func (v Violation) Param(name string) (any, bool) {
	for _, p := range v.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// Message renders the violation for people: through tr when it knows the
// code, else from Template in English. A nil tr means English.
func (v Violation) Message(tr Translator) string {
	if tr != nil {
		if msg, ok := tr.Translate(v.Code, v.Params); ok {
			return msg
		}
	}
	return Render(v.Template, v.Params)
}

// String renders "path: message" (or just the message at the root), for
// logs and error text. Member names, string params and the message are
// cut as in a problem ([Problem]), so that an error built from a hostile
// body stays small; Path and Params keep the full values.
func (v Violation) String() string {
	params, _ := excerptParams(v.Params)
	v.Params = params
	msg, _ := problem.Excerpt(v.Message(nil), maxDetailBytes)
	if len(v.Path) == 0 {
		return msg
	}
	return v.Path.excerptString() + ": " + msg
}

// Translator turns a violation code and its parameters into a message in
// some language. It returns false for a code it does not know, and the
// English template is used instead. Implementations must be safe for
// concurrent use.
type Translator interface {
	Translate(code string, params []Param) (string, bool)
}

// Templates is a [Translator] from a table of message templates by code,
// with {name} placeholders as in [Render]. It covers most languages;
// implement Translator directly for plural rules.
type Templates map[string]string

// Translate implements [Translator].
func (t Templates) Translate(code string, params []Param) (string, bool) {
	tmpl, ok := t[code]
	if !ok {
		return "", false
	}
	return Render(tmpl, params), true
}

// Render replaces each {name} in template with the value of the parameter
// called name. Strings are written as they are, times in RFC 3339, slices
// as a comma-separated list. An unknown {name} is left as it is, so a typo
// in a translation shows instead of vanishing.
func Render(template string, params []Param) string {
	if !strings.Contains(template, "{") {
		return template
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(template, '{')
		if open < 0 {
			break
		}
		closing := strings.IndexByte(template[open:], '}')
		if closing < 0 {
			break
		}
		name := template[open+1 : open+closing]
		b.WriteString(template[:open])
		if val, ok := lookup(params, name); ok {
			writeValue(&b, val)
		} else {
			b.WriteString(template[open : open+closing+1])
		}
		template = template[open+closing+1:]
	}
	b.WriteString(template)
	return b.String()
}

func lookup(params []Param, name string) (any, bool) {
	for _, p := range params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case time.Time:
		b.WriteString(x.Format(time.RFC3339Nano))
	case []string:
		b.WriteString(strings.Join(x, ", "))
	default:
		fmt.Fprint(b, x)
	}
}

// Errors is the error returned when validation finds violations. It is
// always returned as *Errors; use errors.As to get at the violations.
type Errors struct {
	Violations []Violation
	// Truncated is set when more violations were found than
	// Config.MaxViolations; only the first ones are kept.
	Truncated bool
}

// Error lists the violations in English, one per line after the first.
func (e *Errors) Error() string {
	if len(e.Violations) == 1 {
		return "validate: " + e.Violations[0].String()
	}
	var b strings.Builder
	b.WriteString("validate: ")
	b.WriteString(strconv.Itoa(len(e.Violations)))
	b.WriteString(" violations")
	if e.Truncated {
		b.WriteString(" (truncated)")
	}
	for _, v := range e.Violations {
		b.WriteString("\n\t")
		b.WriteString(v.String())
	}
	return b.String()
}

// Has reports whether some violation has the code at the path written in
// the dotted form ("items[2].sku"); an empty path matches the document.
// It is meant for tests and for handlers that react to one rule.
func (e *Errors) Has(path, code string) bool {
	for _, v := range e.Violations {
		if v.Code == code && v.Path.String() == path {
			return true
		}
	}
	return false
}
