package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixture = "github.com/bedrock-go/bedrock/scripts/flakehunt/testdata/fixture"

func huntFixture(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(append([]string{"-passes=2", "-load=1", "-race=false"}, append(args, "./testdata/fixture")...), &out, &errs)
	t.Logf("stderr:\n%s", errs.String())
	return code, out.String(), errs.String()
}

func TestRun_ReportsEveryFailingLeafWithItsMessageAndReplay(t *testing.T) {
	t.Setenv("FLAKEHUNT_FIXTURE_FAIL", "on purpose")
	code, out, progress := huntFixture(t, "-cpu=1,2")
	assert.Contains(t, progress, "pass 1/4")
	assert.Contains(t, progress, "  FAIL "+fixture+" TestFailsWhenAsked: ", "a failure is told as soon as its pass ends")
	assert.Equal(t, 1, strings.Count(progress, "FAIL "+fixture+" TestFailsWhenAsked"), "and told once")
	assert.Equal(t, 1, code, "a failing test makes the exit status 1")
	assert.Contains(t, out, "2 passes × -cpu 1,2")
	assert.Contains(t, out, "2 failing", "one test and one subtest fail; their parent and package are not rows")

	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, fixture+" ") {
			fields := strings.Fields(line)
			rows[fields[1]] = line
		}
	}
	require.Contains(t, rows, "TestFailsWhenAsked")
	assert.Contains(t, rows["TestFailsWhenAsked"], "4/0", "2 passes × 2 -cpu values")
	assert.Contains(t, rows["TestFailsWhenAsked"], "asked to fail: on purpose")
	require.Contains(t, rows, "TestParent/child")
	assert.Contains(t, rows["TestParent/child"], "child failed")
	assert.NotContains(t, rows, "TestParent", "a parent that failed only through its subtest is not a row of its own")
	assert.NotContains(t, rows, "TestAlwaysPasses")
	assert.Contains(t, out, "-run='^TestFailsWhenAsked$' "+fixture)
	assert.Regexp(t, `replay: go test -count=1 -shuffle=\d+ -cpu=[12] -run='\^TestParent\$' `, out)
}

func TestRun_CleanPassesExitZero(t *testing.T) {
	code, out, _ := huntFixture(t)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "0 failing")
	assert.Contains(t, out, "4 tests, 8 test runs", "three tests and one subtest, twice")
}

func TestRun_UsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-passes=0"}, {"-load=-1"}, {"-cpu=0"}, {"-cpu=a,2"}, {"-nosuchflag"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errs bytes.Buffer
			assert.Equal(t, 2, run(args, &out, &errs))
			assert.NotEmpty(t, errs.String())
		})
	}
}

func TestFailureMessage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"testify assertion", []string{"=== RUN   TestX\n", "    x_test.go:9: \n", "        \tError:      \tNot equal: \n", "        \t            \texpected: 1\n"}, "Not equal: expected: 1"},
		{"t.Fatal", []string{"=== RUN   TestX\n", "    x_test.go:12: boom\n", "--- FAIL: TestX (0.00s)\n"}, "x_test.go:12: boom"},
		{"panic", []string{"=== RUN   TestX\n", "panic: runtime error: index out of range\n"}, "panic: runtime error: index out of range"},
		{"race", []string{"==================\n", "WARNING: DATA RACE\n", "Read at 0x00c by goroutine 7:\n"}, "WARNING: DATA RACE"},
		{"cleanup in a helper file", []string{"=== RUN   TestX\n", "    testenv.go:205: testenv: drop schema t_1: timeout\n", "--- FAIL: TestX (25.32s)\n"}, "testenv.go:205: testenv: drop schema t_1: timeout"},
		{"timeout", []string{"panic: test timed out after 10m0s\n"}, "panic: test timed out after 10m0s"},
		{"nothing telling", []string{"something\n", "  \n"}, "something"},
		{"no output", nil, "(no output)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, failureMessage(tc.lines))
		})
	}
}
