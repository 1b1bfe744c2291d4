package conventions

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The rules a [Finding] names.
const (
	RuleMiddlewareShape = "middleware-shape"
	RuleHooks           = "hooks"
	RuleConfigError     = "config-error"
	RuleStutter         = "stutter"
	RuleNames           = "names"
	RuleDocGo           = "doc-go"
	RuleDocComment      = "doc-comment"
	RuleExampleTestenv  = "example-testenv"
)

// AllowedStutter returns the exported names that repeat their package's
// name on purpose, keyed "<directory below the module root>.<Name>", each
// with the reason it stays; [Check] does not report them. An entry whose
// name is no longer declared is itself reported, so the list cannot rot.
// It is a function, not a variable, so that no test can change it for
// another.
func AllowedStutter() map[string]string {
	return map[string]string{
		"cache.Cache": "the package's one main type is the thing the package is named for, " +
			"as list.List and ring.Ring are in the standard library; any other name (Aside, Loader) says less",
		"auth/session.Session": "the value Issue and Rotate return (a refresh token, its family and expiry) " +
			"is what the package is named for, as time.Time is",
	}
}

// A Finding is one place that breaks one rule.
type Finding struct {
	// Pos is where, with the file name relative to the checked root.
	Pos token.Position
	// Rule is one of the Rule constants.
	Rule string
	// Msg says what is wrong, for a person.
	Msg string
}

// String formats f as "file:line: rule: message".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.Pos.Filename, f.Pos.Line, f.Rule, f.Msg)
}

// pkg is one directory's package: its non-test files and its test files.
type pkg struct {
	dir   string // relative to the root, slash-separated
	name  string
	files map[string]*ast.File // non-test files by base name
	tests []*ast.File
}

// Check parses every package below root and returns what breaks the
// conventions, sorted by position. allowed is the stutter allow-list
// (usually [AllowedStutter]()). Directories named testdata or examples, hidden
// ones, and those holding a nested go.mod are skipped. An error means a
// file could not be read or parsed.
func Check(root string, allowed map[string]string) ([]Finding, error) {
	fset := token.NewFileSet()
	pkgs, err := parseTree(fset, root)
	if err != nil {
		return nil, err
	}
	c := &checker{fset: fset, root: root, allowed: allowed, used: map[string]bool{}}
	for _, p := range pkgs {
		c.pkg(p)
	}
	for key := range allowed {
		if !c.used[key] {
			c.add(token.Position{Filename: "(allow-list)"}, RuleStutter,
				"%s is allowed to stutter but is no longer declared: remove it from the list", key)
		}
	}
	slices.SortFunc(c.out, func(a, b Finding) int {
		if n := strings.Compare(a.Pos.Filename, b.Pos.Filename); n != 0 {
			return n
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Msg, b.Msg))
	})
	return c.out, nil
}

func parseTree(fset *token.FileSet, root string) ([]*pkg, error) {
	byDir := map[string]*pkg{}
	var order []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(path, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		p := byDir[rel]
		if p == nil {
			p = &pkg{dir: rel, files: map[string]*ast.File{}}
			byDir[rel] = p
			order = append(order, rel)
		}
		if strings.HasSuffix(d.Name(), "_test.go") {
			p.tests = append(p.tests, f)
			return nil
		}
		p.name = f.Name.Name
		p.files[d.Name()] = f
		return nil
	})
	out := make([]*pkg, 0, len(order))
	for _, dir := range order {
		out = append(out, byDir[dir])
	}
	return out, err
}

func skipDir(path, name string) bool {
	if name == "testdata" || name == "examples" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return true
	}
	_, err := os.Stat(filepath.Join(path, "go.mod"))
	return err == nil
}

type checker struct {
	fset    *token.FileSet
	root    string
	allowed map[string]string
	used    map[string]bool
	out     []Finding
}

func (c *checker) add(pos token.Position, rule, format string, args ...any) {
	c.out = append(c.out, Finding{Pos: pos, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) at(p token.Pos, rule, format string, args ...any) {
	pos := c.fset.Position(p)
	if rel, err := filepath.Rel(c.root, pos.Filename); err == nil {
		pos.Filename = filepath.ToSlash(rel)
	}
	c.add(pos, rule, format, args...)
}

func (c *checker) pkg(p *pkg) {
	for _, f := range p.tests {
		c.examples(f)
	}
	if len(p.files) == 0 {
		return // a directory of tests only
	}
	c.docGo(p)
	if isBadName(p.name) {
		c.add(token.Position{Filename: p.dir}, RuleNames, "package %s: a package is named for what it provides", p.name)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range p.files {
			if !yield(n) {
				return
			}
		}
	})
	funcTypes := map[string]bool{}
	for _, n := range names {
		collectFuncTypes(p.files[n], funcTypes)
	}
	for _, n := range names {
		f := p.files[n]
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				c.funcDecl(p, f, d)
			case *ast.GenDecl:
				c.genDecl(p, d, funcTypes)
			}
		}
	}
}

func (c *checker) docGo(p *pkg) {
	f, ok := p.files["doc.go"]
	switch {
	case !ok:
		c.add(token.Position{Filename: p.dir}, RuleDocGo, "package %s has no doc.go", p.name)
	case f.Doc == nil:
		c.at(f.Package, RuleDocGo, "doc.go of package %s has no package comment", p.name)
	}
}

func (c *checker) funcDecl(p *pkg, f *ast.File, d *ast.FuncDecl) {
	if !d.Name.IsExported() {
		return
	}
	recv := ""
	if d.Recv != nil && len(d.Recv.List) > 0 {
		recv = receiverName(d.Recv.List[0].Type)
		if !ast.IsExported(recv) {
			return // not part of the API
		}
	}
	name := d.Name.Name
	if recv != "" {
		name = recv + "." + name
	} else {
		c.stutter(p, d.Name)
	}
	if d.Doc == nil {
		c.at(d.Pos(), RuleDocComment, "%s has no doc comment", name)
	}
	if d.Type.Results == nil {
		return
	}
	http := importName(f, "net/http")
	for _, r := range d.Type.Results.List {
		if http != "" && isHandlerFunc(r.Type, http) {
			c.at(d.Pos(), RuleMiddlewareShape,
				"%s returns func(http.Handler) http.Handler: middleware is a value with Handler(next http.Handler) http.Handler", name)
		}
	}
}

func (c *checker) genDecl(p *pkg, d *ast.GenDecl, funcTypes map[string]bool) {
	for _, s := range d.Specs {
		switch s := s.(type) {
		case *ast.TypeSpec:
			c.typeSpec(p, d, s, funcTypes)
		case *ast.ValueSpec:
			for i, id := range s.Names {
				if !id.IsExported() {
					continue
				}
				c.stutter(p, id)
				if s.Doc == nil && d.Doc == nil && s.Comment == nil {
					c.at(id.Pos(), RuleDocComment, "%s has no doc comment", id.Name)
				}
				if d.Tok == token.VAR {
					var value ast.Expr
					if i < len(s.Values) {
						value = s.Values[i]
					}
					c.configError(p, id, value)
				}
			}
		}
	}
}

func (c *checker) typeSpec(p *pkg, d *ast.GenDecl, s *ast.TypeSpec, funcTypes map[string]bool) {
	name := s.Name.Name
	if st, ok := s.Type.(*ast.StructType); ok {
		if isHooksName(name) {
			c.hooks(name, st, funcTypes)
		} else {
			c.strayCallbacks(name, st, funcTypes)
		}
		if name == "Config" || strings.HasSuffix(name, "Config") {
			c.configHooks(name, st)
		}
	}
	if !s.Name.IsExported() {
		return
	}
	c.stutter(p, s.Name)
	if isBadName(name) {
		c.at(s.Pos(), RuleNames, "type %s: a type is named for what it is, not Manager, Util, Helper or Common", name)
	}
	if s.Doc == nil && d.Doc == nil {
		c.at(s.Pos(), RuleDocComment, "%s has no doc comment", name)
	}
}

var onEvent = regexp.MustCompile(`^On[A-Z][A-Za-z0-9]*$`)

func (c *checker) hooks(name string, st *ast.StructType, funcTypes map[string]bool) {
	for _, field := range st.Fields.List {
		if len(field.Names) == 0 {
			c.at(field.Pos(), RuleHooks, "%s embeds a type: a Hooks struct holds only On<Event> func fields", name)
			continue
		}
		for _, id := range field.Names {
			if !isFunc(field.Type, funcTypes) {
				c.at(id.Pos(), RuleHooks, "%s.%s is not a func: a Hooks struct holds only On<Event> func fields", name, id.Name)
				continue
			}
			if !onEvent.MatchString(id.Name) {
				c.at(id.Pos(), RuleHooks, "%s.%s: a callback is named On<Event>", name, id.Name)
			}
		}
	}
}

// strayCallbacks reports an On<Event> callback outside a Hooks struct.
func (c *checker) strayCallbacks(name string, st *ast.StructType, funcTypes map[string]bool) {
	for _, field := range st.Fields.List {
		if !isFunc(field.Type, funcTypes) {
			continue
		}
		for _, id := range field.Names {
			if onEvent.MatchString(id.Name) {
				c.at(id.Pos(), RuleHooks, "%s.%s: an On<Event> callback belongs in a Hooks struct", name, id.Name)
			}
		}
	}
}

func (c *checker) configHooks(name string, st *ast.StructType) {
	for _, field := range st.Fields.List {
		star, ok := field.Type.(*ast.StarExpr)
		if !ok || !isHooksName(typeName(star.X)) {
			continue
		}
		c.at(field.Pos(), RuleHooks, "%s holds *%s: hooks are a value, so a zero Config is valid and a copy never aliases another's hooks",
			name, typeName(star.X))
	}
}

func (c *checker) configError(p *pkg, id *ast.Ident, value ast.Expr) {
	switch id.Name {
	case "ErrConfig":
		c.at(id.Pos(), RuleConfigError, "ErrConfig: the config sentinel is ErrInvalidConfig in every package")
	case "ErrInvalidConfig":
		want := p.name + ": invalid config"
		if msg, ok := errorMessage(value); !ok || msg != want {
			c.at(id.Pos(), RuleConfigError, "ErrInvalidConfig must be errors.New(%q)", want)
		}
	}
}

// stutter reports an exported package-level name that begins with the
// package's name (after Err, for a sentinel), as token.TokenX or
// token.ErrTokenX would.
func (c *checker) stutter(p *pkg, id *ast.Ident) {
	name := strings.TrimPrefix(id.Name, "Err")
	lower := strings.ToLower(name)
	if !strings.HasPrefix(lower, p.name) {
		return
	}
	if rest := name[len(p.name):]; rest != "" && !isUpper(rest[0]) {
		return // auth.Authenticator: the package's name is not a word of it
	}
	key := p.dir + "." + id.Name
	if _, ok := c.allowed[key]; ok {
		c.used[key] = true
		return
	}
	c.at(id.Pos(), RuleStutter, "%s.%s repeats the package's name", p.name, id.Name)
}

// examples reports Example functions that use internal/testenv.
func (c *checker) examples(f *ast.File) {
	testenv := ""
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if strings.HasSuffix(path, "/internal/testenv") || path == "internal/testenv" {
			testenv = "testenv"
			if imp.Name != nil {
				testenv = imp.Name.Name
			}
		}
	}
	if testenv == "" {
		return
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || !strings.HasPrefix(fd.Name.Name, "Example") || fd.Body == nil {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == testenv {
					c.at(sel.Pos(), RuleExampleTestenv,
						"%s uses %s.%s: users cannot import internal/testenv; build the client from the environment", fd.Name.Name, testenv, sel.Sel.Name)
					return false
				}
			}
			return true
		})
	}
}

var badNames = []string{"Manager", "Util", "Utils", "Helper", "Helpers", "Common"}

// isBadName reports a type named, or ending in, Manager, Util(s),
// Helper(s) or Common, or a package with one of those names.
func isBadName(name string) bool {
	for _, b := range badNames {
		if strings.EqualFold(name, b) || strings.HasSuffix(name, b) {
			return true
		}
	}
	return false
}

func isHooksName(name string) bool { return name == "Hooks" || strings.HasSuffix(name, "Hooks") }

func isUpper(b byte) bool { return 'A' <= b && b <= 'Z' }

// collectFuncTypes records the package's named func types (type OnX func()),
// which a Hooks field may use.
func collectFuncTypes(f *ast.File, into map[string]bool) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			if ts, ok := s.(*ast.TypeSpec); ok {
				if _, ok := ts.Type.(*ast.FuncType); ok {
					into[ts.Name.Name] = true
				}
			}
		}
	}
}

func isFunc(e ast.Expr, funcTypes map[string]bool) bool {
	switch e := e.(type) {
	case *ast.FuncType:
		return true
	case *ast.Ident:
		return funcTypes[e.Name]
	case *ast.ParenExpr:
		return isFunc(e.X, funcTypes)
	}
	return false
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return typeName(e.X)
	case *ast.IndexListExpr:
		return typeName(e.X)
	}
	return ""
}

func receiverName(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	return typeName(e)
}

// importName returns the name under which f imports path, or "".
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}

// isHandlerFunc reports whether e is func(http.Handler) http.Handler, with
// http the name net/http is imported under.
func isHandlerFunc(e ast.Expr, http string) bool {
	ft, ok := e.(*ast.FuncType)
	if !ok || ft.Params == nil || ft.Results == nil {
		return false
	}
	if ft.Params.NumFields() != 1 || ft.Results.NumFields() != 1 {
		return false
	}
	return isHandler(ft.Params.List[0].Type, http) && isHandler(ft.Results.List[0].Type, http)
}

func isHandler(e ast.Expr, http string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Handler" {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == http
}

// errorMessage returns the message of errors.New("...") or
// fmt.Errorf("...") without verbs.
func errorMessage(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return "", false
	}
	fn, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	x, ok := fn.X.(*ast.Ident)
	if !ok || !(x.Name == "errors" && fn.Sel.Name == "New" || x.Name == "fmt" && fn.Sel.Name == "Errorf") {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
