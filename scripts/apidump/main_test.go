package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDumpPackage_ExportedSignaturesOnly(t *testing.T) {
	got, err := dumpPackage("example.test/sample", filepath.Join("testdata", "sample"))
	require.NoError(t, err)
	want := `package sample // import "example.test/sample"

const (
	A = 1
)

var ErrX = errors.New("sample: x")

type Config struct {
	Size int
	// has unexported fields
}

type Doer interface {
	Do() int
	// has unexported fields
}

type Thing struct {
	// has unexported fields
}

	func Open(c Config) (*Thing, error)

	func (t *Thing) Do() int
`
	assert.Equal(t, want, string(got))
}

func TestCompare_ReportsChangedNewAndRemovedFiles(t *testing.T) {
	var out bytes.Buffer
	err := compare(
		map[string][]byte{"a.txt": []byte("func A()\n"), "new.txt": []byte("x\n"), "same.txt": []byte("s\n")},
		map[string][]byte{"a.txt": []byte("func A(int)\n"), "gone.txt": []byte("y\n"), "same.txt": []byte("s\n")},
		&out)
	require.ErrorIs(t, err, errDiffers)
	assert.Contains(t, out.String(), "a.txt differs:\n\t- func A(int)\n\t+ func A()\n")
	assert.Contains(t, out.String(), "new.txt: new package")
	assert.Contains(t, out.String(), "gone.txt: API file of a package that no longer exists")
	assert.NotContains(t, out.String(), "same.txt")

	out.Reset()
	require.NoError(t, compare(map[string][]byte{"s.txt": []byte("s")}, map[string][]byte{"s.txt": []byte("s")}, &out))
	assert.Empty(t, out.String())
}

// TestAPIFilesMatchTheCode is the check CI relies on, run as a test too so
// that `go test ./...` alone catches an API change without its api/ diff.
func TestAPIFilesMatchTheCode(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	var out bytes.Buffer
	assert.NoError(t, run(true, "api", &out), out.String())
}
