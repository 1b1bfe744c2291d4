package conformance

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Reading another project's test tables from its source at run time, so
// that the cases replayed here are always the anchor's own, never a copy
// that drifts. Only the literal forms those tables use are understood;
// anything else fails the test with the expression, for a person to look
// at.

// goSourceFile parses a Go file.
func goSourceFile(t *testing.T, path string) *ast.File {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	require.NoError(t, err, "parsing %s", path)
	return f
}

// goRootFile is a file of the standard library's source tree.
func goRootFile(t *testing.T, rel string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	require.NoError(t, err)
	return filepath.Join(strings.TrimSpace(string(out)), "src", rel)
}

// moduleFile is a file of a module this module requires, from the module
// cache.
func moduleFile(t *testing.T, module, rel string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", module).Output()
	require.NoError(t, err, "go list -m %s", module)
	var m struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &m))
	require.NotEmpty(t, m.Dir, "%s is not in the module cache: run go mod download", module)
	return filepath.Join(m.Dir, rel)
}

// sourceTable is one table of test cases: a composite literal of
// []struct{...} assigned in a test function, with the calls the function
// makes on its subject before the loop.
type sourceTable struct {
	fn    string                // the test function
	rows  []map[string]ast.Expr // field name -> expression, per case
	calls map[string][]ast.Expr // method name -> first argument, in order
	// constHeaders are the headers the function sets on every request with
	// literal names and values (req.Header.Set("Origin", "https://...")).
	constHeaders map[string]string
}

// sourceTables returns every []struct table of the file's Test functions.
func sourceTables(f *ast.File) []sourceTable {
	var out []sourceTable
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || !strings.HasPrefix(fd.Name.Name, "Test") {
			continue
		}
		tab := sourceTable{fn: fd.Name.Name, calls: map[string][]ast.Expr{}, constHeaders: map[string]string{}}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) > 0 {
					tab.calls[sel.Sel.Name] = append(tab.calls[sel.Sel.Name], n.Args[0])
					if strings.HasSuffix(exprString(sel), ".Header.Set") && len(n.Args) == 2 {
						k, kok := n.Args[0].(*ast.BasicLit)
						v, vok := n.Args[1].(*ast.BasicLit)
						if kok && vok {
							ks, _ := strconv.Unquote(k.Value)
							vs, _ := strconv.Unquote(v.Value)
							tab.constHeaders[ks] = vs
						}
					}
				}
			case *ast.CompositeLit:
				arr, ok := n.Type.(*ast.ArrayType)
				if !ok || tab.rows != nil {
					return true
				}
				st, ok := arr.Elt.(*ast.StructType)
				if !ok {
					return true
				}
				var names []string
				for _, fl := range st.Fields.List {
					for _, nm := range fl.Names {
						names = append(names, nm.Name)
					}
				}
				for _, e := range n.Elts {
					row := map[string]ast.Expr{}
					for i, v := range e.(*ast.CompositeLit).Elts {
						if kv, ok := v.(*ast.KeyValueExpr); ok {
							row[kv.Key.(*ast.Ident).Name] = kv.Value
						} else {
							row[names[i]] = v
						}
					}
					tab.rows = append(tab.rows, row)
				}
			}
			return true
		})
		if tab.rows != nil {
			out = append(out, tab)
		}
	}
	return out
}

// srcEnv gives values to the selector expressions a table refers to, such
// as ts.URL.
type srcEnv map[string]string

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.BasicLit:
		return e.Value
	}
	return fmt.Sprintf("%T", e)
}

// str evaluates a string expression: literals, env names and + between
// them.
func (env srcEnv) str(t *testing.T, e ast.Expr) string {
	t.Helper()
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			require.NoError(t, err)
			return s
		}
	case *ast.SelectorExpr, *ast.Ident:
		if v, ok := env[exprString(e)]; ok {
			return v
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			return env.str(t, e.X) + env.str(t, e.Y)
		}
	}
	t.Fatalf("cannot read %s as a string", exprString(e))
	return ""
}

func (env srcEnv) boolean(t *testing.T, e ast.Expr) bool {
	t.Helper()
	if id, ok := e.(*ast.Ident); ok && (id.Name == "true" || id.Name == "false") {
		return id.Name == "true"
	}
	t.Fatalf("cannot read %s as a bool", exprString(e))
	return false
}

func (env srcEnv) integer(t *testing.T, e ast.Expr) int {
	t.Helper()
	neg := false
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.SUB {
		neg, e = true, u.X
	}
	if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.INT {
		n, err := strconv.Atoi(lit.Value)
		require.NoError(t, err)
		if neg {
			n = -n
		}
		return n
	}
	t.Fatalf("cannot read %s as an int", exprString(e))
	return 0
}

// httpStatus reads http.StatusXxx by asking net/http for every code's
// constant name.
func (env srcEnv) httpStatus(t *testing.T, e ast.Expr) int {
	t.Helper()
	name := exprString(e)
	for code := 100; code < 600; code++ {
		if txt := http.StatusText(code); txt != "" && "http.Status"+statusIdent(txt) == name {
			return code
		}
	}
	t.Fatalf("unknown status %s", name)
	return 0
}

// statusIdent turns "Forbidden" or "I'm a teapot" into the constant's
// suffix as net/http spells it for the codes its tests use.
func statusIdent(text string) string {
	switch text {
	case "OK":
		return "OK"
	case "I'm a teapot":
		return "Teapot"
	}
	return strings.NewReplacer(" ", "", "-", "").Replace(text)
}

func (env srcEnv) strings(t *testing.T, e ast.Expr) []string {
	t.Helper()
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("cannot read %s as a []string", exprString(e))
	}
	out := []string{}
	for _, v := range cl.Elts {
		out = append(out, env.str(t, v))
	}
	return out
}

// header reads an http.Header{"Name": {"v1", "v2"}} literal.
func (env srcEnv) header(t *testing.T, e ast.Expr) http.Header {
	t.Helper()
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("cannot read %s as an http.Header", exprString(e))
	}
	h := http.Header{}
	for _, v := range cl.Elts {
		kv := v.(*ast.KeyValueExpr)
		// Set as the literal spells it: the anchors' tables index the map
		// directly, so the keys are already canonical.
		h[env.str(t, kv.Key)] = env.strings(t, kv.Value)
	}
	return h
}

// fields reads a keyed struct literal such as Options{...}.
func (env srcEnv) fields(t *testing.T, e ast.Expr) map[string]ast.Expr {
	t.Helper()
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("cannot read %s as a struct literal", exprString(e))
	}
	out := map[string]ast.Expr{}
	for _, v := range cl.Elts {
		kv, ok := v.(*ast.KeyValueExpr)
		if !ok {
			t.Fatalf("positional struct literal %s", exprString(e))
		}
		out[kv.Key.(*ast.Ident).Name] = kv.Value
	}
	return out
}

// originPredicate interprets a func literal deciding on an origin, of the
// forms the anchors' tables use: `return true`, and
// `return regexp.MustCompile("re").MatchString(o)`, joined with && to
// conditions on the request (r.Header.Get("Name") == "value"). It reports
// whether the predicate reads the request.
func originPredicate(t *testing.T, e ast.Expr) (pred func(r *http.Request, origin string) bool, readsRequest bool) {
	t.Helper()
	fl, ok := e.(*ast.FuncLit)
	if !ok || len(fl.Body.List) != 1 {
		t.Fatalf("cannot interpret %s as an origin predicate", exprString(e))
	}
	ret, ok := fl.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) == 0 {
		t.Fatalf("origin predicate is not a single return")
	}
	var env srcEnv
	var eval func(ast.Expr) func(*http.Request, string) bool
	eval = func(x ast.Expr) func(*http.Request, string) bool {
		switch x := x.(type) {
		case *ast.Ident:
			v := env.boolean(t, x)
			return func(*http.Request, string) bool { return v }
		case *ast.BinaryExpr:
			switch x.Op {
			case token.LAND:
				a, b := eval(x.X), eval(x.Y)
				return func(r *http.Request, o string) bool { return a(r, o) && b(r, o) }
			case token.EQL:
				call, ok := x.X.(*ast.CallExpr)
				if ok && strings.HasSuffix(exprString(call.Fun), ".Header.Get") {
					name, want := env.str(t, call.Args[0]), env.str(t, x.Y)
					readsRequest = true
					return func(r *http.Request, _ string) bool { return r.Header.Get(name) == want }
				}
			}
		case *ast.CallExpr:
			sel, ok := x.Fun.(*ast.SelectorExpr)
			if ok && sel.Sel.Name == "MatchString" {
				if inner, ok := sel.X.(*ast.CallExpr); ok && exprString(inner.Fun) == "regexp.MustCompile" {
					re := regexp.MustCompile(env.str(t, inner.Args[0]))
					return func(_ *http.Request, o string) bool { return re.MatchString(o) }
				}
			}
		}
		t.Fatalf("cannot interpret %s in an origin predicate", exprString(x))
		return nil
	}
	return eval(ret.Results[0]), readsRequest
}
