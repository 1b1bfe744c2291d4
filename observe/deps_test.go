package observe_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/bedrock-go/bedrock"

// drivers are the modules a package must not compile unless it adapts a
// package that needs them.
var drivers = []string{"github.com/jackc/pgx/", "github.com/redis/go-redis/", "github.com/nats-io/"}

// adapterDeps says, for each package of observe, which Bedrock packages
// (with their sub-packages, internal/ aside) and which drivers it may
// compile: its own adapted package and that package's drivers, nothing
// else. The core may compile none.
var adapterDeps = map[string]struct{ bedrock, drivers []string }{
	"observe":                    {},
	"observe/authobserve":        {bedrock: []string{"auth"}},
	"observe/cacheobserve":       {bedrock: []string{"cache"}},
	"observe/cryptoobserve":      {bedrock: []string{"crypto"}},
	"observe/httpapiobserve":     {bedrock: []string{"httpapi"}},
	"observe/httpsecobserve":     {bedrock: []string{"httpsec"}},
	"observe/idempotencyobserve": {bedrock: []string{"idempotency"}},
	"observe/outboxobserve":      {bedrock: []string{"outbox"}, drivers: []string{"github.com/jackc/pgx/"}},
	// natsjs hands messages to outbox handlers, and outbox compiles pgx.
	"observe/natsjsobserve": {bedrock: []string{"outbox"},
		drivers: []string{"github.com/nats-io/", "github.com/jackc/pgx/"}},
	// A pager's Signer is usually a crypto.MACKeyRing, whose refusals
	// (unknown or retired key) are told apart by crypto's sentinels;
	// crypto compiles no driver.
	"observe/paginationobserve": {bedrock: []string{"pagination", "crypto"}},
	"observe/pgxobserve":        {drivers: []string{"github.com/jackc/pgx/"}},
	"observe/ratelimitobserve":  {bedrock: []string{"ratelimit"}},
	"observe/redislimitobserve": {bedrock: []string{"ratelimit", "ratelimit/redislimit"},
		drivers: []string{"github.com/redis/go-redis/"}},
	"observe/redisobserve":      {bedrock: []string{"observe"}, drivers: []string{"github.com/redis/go-redis/"}},
	"observe/resilienceobserve": {bedrock: []string{"resilience"}},
	"observe/txnobserve":        {bedrock: []string{"txn"}, drivers: []string{"github.com/jackc/pgx/"}},
	"observe/validateobserve":   {bedrock: []string{"validate"}},
}

// deps returns the transitive imports of every package matching pattern,
// by package path relative to the module, as the go command computes them
// for a build (tests excluded).
func deps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	// go test puts its own GOROOT/bin first in PATH.
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to list imports")
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", pattern).Output()
	require.NoError(t, err, "go list: %s", out)
	got := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		got[strings.TrimPrefix(fields[0], module+"/")] = fields[1:]
	}
	require.NoError(t, sc.Err())
	return got
}

// TestDependencies_EachPackageCompilesOnlyWhatItAdapts keeps observe's core
// light: it imports no database, Redis or NATS driver and no other Bedrock
// package, and each adapter compiles only the package it adapts and that
// package's drivers (ratelimitobserve does not get go-redis because
// redislimitobserve needs it).
func TestDependencies_EachPackageCompilesOnlyWhatItAdapts(t *testing.T) {
	all := deps(t, module+"/observe/...")
	for pkg := range all {
		_, known := adapterDeps[pkg]
		assert.Truef(t, known, "%s is not in adapterDeps: say what it may compile", pkg)
	}
	for pkg, allowed := range adapterDeps {
		t.Run(pkg, func(t *testing.T) {
			list, ok := all[pkg]
			require.Truef(t, ok, "go list did not report %s", pkg)
			for _, dep := range list {
				if rel, ok := strings.CutPrefix(dep, module+"/"); ok {
					assert.Truef(t, strings.HasPrefix(rel, "internal/") || within(rel, allowed.bedrock),
						"%s imports %s", pkg, dep)
					continue
				}
				for _, d := range drivers {
					if strings.HasPrefix(dep, d) {
						assert.Truef(t, within(dep, allowed.drivers), "%s compiles the driver %s", pkg, dep)
					}
				}
			}
		})
	}
}

// within reports whether path is one of roots or below one.
func within(path string, roots []string) bool {
	for _, r := range roots {
		if path == strings.TrimSuffix(r, "/") || strings.HasPrefix(path, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}
