package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	check := flag.Bool("check", false, "compare api/ with the code instead of writing it; exit 1 when they differ")
	dir := flag.String("dir", "api", "directory of the API files")
	flag.Parse()
	if err := run(*check, *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "apidump:", err)
		os.Exit(1)
	}
}

var errDiffers = errors.New("the exported API differs from api/: run `go run ./scripts/apidump` and commit the diff with the change")

func run(check bool, dir string, w io.Writer) error {
	pkgs, err := listPackages()
	if err != nil {
		return err
	}
	want := make(map[string][]byte) // file name → content
	for _, p := range pkgs {
		text, err := dumpPackage(p.importPath, p.dir)
		if err != nil {
			return err
		}
		want[fileName(p.importPath)] = text
	}
	have, err := readDir(dir)
	if err != nil {
		return err
	}
	if check {
		return compare(want, have, w)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
			fmt.Fprintf(w, "removed %s\n", name)
		}
	}
	for name, text := range want {
		if bytes.Equal(have[name], text) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s\n", name)
	}
	return nil
}

func compare(want, have map[string][]byte, w io.Writer) error {
	var names []string
	for name := range want {
		names = append(names, name)
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	differs := false
	for _, name := range names {
		wt, inCode := want[name]
		ht, inFiles := have[name]
		switch {
		case !inFiles:
			fmt.Fprintf(w, "%s: new package, no API file yet\n", name)
		case !inCode:
			fmt.Fprintf(w, "%s: API file of a package that no longer exists\n", name)
		case !bytes.Equal(wt, ht):
			fmt.Fprintf(w, "%s differs:\n%s", name, lineDiff(ht, wt))
		default:
			continue
		}
		differs = true
	}
	if differs {
		return errDiffers
	}
	return nil
}

// lineDiff lists the lines only in old (-) and only in new (+), which is
// enough to see an API change without a diff algorithm.
func lineDiff(old, new []byte) string {
	count := func(b []byte) map[string]int {
		m := make(map[string]int)
		for _, l := range strings.Split(string(b), "\n") {
			m[l]++
		}
		return m
	}
	o, n := count(old), count(new)
	var out strings.Builder
	for _, l := range strings.Split(string(old), "\n") {
		if n[l] > 0 {
			n[l]--
			continue
		}
		fmt.Fprintf(&out, "\t- %s\n", l)
	}
	for _, l := range strings.Split(string(new), "\n") {
		if o[l] > 0 {
			o[l]--
			continue
		}
		fmt.Fprintf(&out, "\t+ %s\n", l)
	}
	return out.String()
}

func readDir(dir string) (map[string][]byte, error) {
	files := make(map[string][]byte)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return files, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	return files, nil
}

type pkg struct{ importPath, dir, name string }

func listPackages() ([]pkg, error) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}} {{.Dir}}", "./...").Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("go list: %s", exit.Stderr)
		}
		return nil, err
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("go list: unexpected line %q", line)
		}
		p := pkg{importPath: f[0], name: f[1], dir: f[2]}
		if p.name == "main" || !public(p.importPath) {
			continue
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func public(importPath string) bool {
	for _, part := range strings.Split(importPath, "/") {
		if part == "internal" || part == "examples" || part == "scripts" || part == "testdata" {
			return false
		}
	}
	return true
}

// fileName turns github.com/bedrock-go/bedrock/auth/token into
// auth.token.txt, and the module root into bedrock.txt.
func fileName(importPath string) string {
	const module = "github.com/bedrock-go/bedrock"
	rel := strings.TrimPrefix(strings.TrimPrefix(importPath, module), "/")
	if rel == "" {
		rel = "bedrock"
	}
	return strings.ReplaceAll(rel, "/", ".") + ".txt"
}

func dumpPackage(importPath, dir string) ([]byte, error) {
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", importPath, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	d, err := doc.NewFromFiles(fset, files, importPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", importPath, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "package %s // import %q\n", d.Name, importPath)
	p := &declPrinter{fset: fset, w: &b}
	for _, c := range d.Consts {
		p.decl(c.Decl, "")
	}
	for _, v := range d.Vars {
		p.decl(v.Decl, "")
	}
	for _, f := range d.Funcs {
		p.decl(f.Decl, "")
	}
	for _, t := range d.Types {
		p.decl(t.Decl, "")
		for _, c := range t.Consts {
			p.decl(c.Decl, "\t")
		}
		for _, v := range t.Vars {
			p.decl(v.Decl, "\t")
		}
		for _, f := range t.Funcs {
			p.decl(f.Decl, "\t")
		}
		for _, m := range t.Methods {
			p.decl(m.Decl, "\t")
		}
	}
	if p.err != nil {
		return nil, fmt.Errorf("%s: %w", importPath, p.err)
	}
	return b.Bytes(), nil
}

type declPrinter struct {
	fset *token.FileSet
	w    *bytes.Buffer
	err  error
}

// decl prints one declaration without comments, bodies or blank lines,
// each line prefixed with indent, preceded by a blank line.
func (p *declPrinter) decl(d ast.Decl, indent string) {
	stripComments(d)
	var b bytes.Buffer
	cfg := printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}
	if err := cfg.Fprint(&b, p.fset, d); err != nil {
		p.err = errors.Join(p.err, err)
		return
	}
	text := b.String()
	for _, kind := range []string{"struct", "interface"} { // a one-line original prints the marker inline
		text = strings.ReplaceAll(text, kind+"{ "+unexportedMarker+" }", kind+" {\n\t"+unexportedMarker+"\n}")
	}
	p.w.WriteString("\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue // where a comment was: blank lines inside a declaration carry no API
		}
		p.w.WriteString(strings.TrimRight(indent+line, " \t"))
		p.w.WriteString("\n")
	}
}

// unexportedMarker stands for the members go/doc filtered out of a struct or
// interface. It is a field name no Go code can declare, so it survives
// printing as an ordinary line.
const unexportedMarker = "// has unexported fields"

func stripComments(d ast.Decl) {
	ast.Inspect(d, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			n.Doc, n.Body = nil, nil
		case *ast.GenDecl:
			n.Doc = nil
		case *ast.ValueSpec:
			n.Doc, n.Comment = nil, nil
		case *ast.TypeSpec:
			n.Doc, n.Comment = nil, nil
		case *ast.Field:
			n.Doc, n.Comment = nil, nil
		case *ast.StructType:
			if n.Incomplete {
				n.Incomplete = false
				n.Fields.List = append(n.Fields.List, &ast.Field{Type: &ast.Ident{Name: unexportedMarker}})
			}
		case *ast.InterfaceType:
			if n.Incomplete {
				n.Incomplete = false
				n.Methods.List = append(n.Methods.List, &ast.Field{Type: &ast.Ident{Name: unexportedMarker}})
			}
		}
		return true
	})
}
