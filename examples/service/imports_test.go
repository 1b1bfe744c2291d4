package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExamplesImportOnlyPublicAPI keeps the examples copyable: no Go file
// under examples/, tests included, imports the module's internal packages,
// which a copy outside the module could not compile. The example's own
// internal packages (examples/service/internal/...) are fine: they travel
// with it.
func TestExamplesImportOnlyPublicAPI(t *testing.T) {
	const module = "github.com/bedrock-go/bedrock"
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			if p == module+"/internal" || strings.HasPrefix(p, module+"/internal/") {
				assert.Failf(t, "an example imports the module's internal API",
					"%s imports %s; examples use only public packages", fset.Position(imp.Pos()), p)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 20, "the walk found the examples")
}
