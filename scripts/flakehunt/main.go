package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	passes  int
	load    int
	loadCmd string
	cpus    []string
	run     string
	race    bool
	timeout time.Duration
	pkgs    []string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var cpus string
	fs := flag.NewFlagSet("flakehunt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.passes, "passes", 10, "passes per -cpu value")
	fs.IntVar(&o.load, "load", runtime.NumCPU(), "busy-looping goroutines beside the tests (0 for none)")
	fs.StringVar(&o.loadCmd, "load-cmd", "", "shell command to run as the load instead of -load")
	fs.StringVar(&cpus, "cpu", "", "comma-separated -cpu values, each run -passes times")
	fs.StringVar(&o.run, "run", "", "only tests matching this regular expression")
	fs.BoolVar(&o.race, "race", true, "use the race detector")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "go test -timeout per pass")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.passes < 1 || o.load < 0 {
		return o, errors.New("flakehunt: -passes must be at least 1 and -load at least 0")
	}
	o.cpus = []string{""}
	if cpus != "" {
		o.cpus = strings.Split(cpus, ",")
		for _, c := range o.cpus {
			if n, err := strconv.Atoi(c); err != nil || n < 1 {
				return o, fmt.Errorf("flakehunt: -cpu %q: want positive integers separated by commas", cpus)
			}
		}
	}
	o.pkgs = fs.Args()
	if len(o.pkgs) == 0 {
		o.pkgs = []string{"./..."}
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stopLoad, err := startLoad(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer stopLoad()

	h := newHunt()
	total := o.passes * len(o.cpus)
	for i := range total {
		p := pass{n: i + 1, seed: rand.Int64N(1 << 40), cpu: o.cpus[i%len(o.cpus)]}
		start := time.Now()
		if err := h.run(ctx, o, p); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		fmt.Fprintf(stderr, "pass %d/%d (seed %d%s): %s, %d failing so far\n",
			p.n, total, p.seed, p.cpuSuffix(), time.Since(start).Round(time.Second), h.failing())
		for _, f := range h.newFailures() { // tell them now: a long hunt may be stopped early
			fmt.Fprintf(stderr, "  FAIL %s %s: %s\n", f.pkg, f.test, h.results[f].first)
		}
		if ctx.Err() != nil {
			break
		}
	}
	h.report(stdout, o)
	if h.failing() > 0 {
		return 1
	}
	return 0
}

// startLoad keeps the CPUs busy until the returned function is called.
func startLoad(ctx context.Context, o options) (func(), error) {
	if o.loadCmd != "" {
		cmd := exec.CommandContext(ctx, "sh", "-c", o.loadCmd)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("flakehunt: -load-cmd: %w", err)
		}
		return func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the whole group: sh and its children
			_ = cmd.Wait()
		}, nil
	}
	if o.load > runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(o.load + 1)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var sink atomic.Uint64 // keeps the busy loop from being optimised away
	for range o.load {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // one OS thread each, competing with the tests
			x := uint64(1)
			for {
				select {
				case <-done:
					return
				default:
				}
				for range 1 << 16 {
					x = x*6364136223846793005 + 1442695040888963407
				}
				sink.Store(x)
			}
		}()
	}
	return func() { close(done); wg.Wait() }, nil
}

type pass struct {
	n    int
	seed int64
	cpu  string
}

func (p pass) cpuSuffix() string {
	if p.cpu == "" {
		return ""
	}
	return ", -cpu " + p.cpu
}

// testID names one test (or, with an empty test, a package that failed as a
// whole: a build error, a panic outside a test, a timeout).
type testID struct{ pkg, test string }

type result struct {
	passes, failures int
	first            string // the first failure's message
	replay           string // the command that replays the first failure
}

type hunt struct {
	results map[testID]*result
	told    map[testID]bool // failures already reported during the hunt
}

func newHunt() *hunt {
	return &hunt{results: make(map[testID]*result), told: make(map[testID]bool)}
}

// newFailures returns the tests that failed for the first time since the
// last call.
func (h *hunt) newFailures() []testID {
	var ids []testID
	for id, r := range h.results {
		if r.failures > 0 && !h.told[id] {
			h.told[id] = true
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].pkg+" "+ids[i].test < ids[j].pkg+" "+ids[j].test })
	return ids
}

func (h *hunt) failing() int {
	n := 0
	for _, r := range h.results {
		if r.failures > 0 {
			n++
		}
	}
	return n
}

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // of build-output events: "pkg [pkg.test]"
	Test       string
	Output     string
}

func (h *hunt) run(ctx context.Context, o options, p pass) error {
	args := []string{"test", "-json", "-count=1", "-shuffle=" + strconv.FormatInt(p.seed, 10), "-timeout=" + o.timeout.String()}
	if o.race {
		args = append(args, "-race")
	}
	if p.cpu != "" {
		args = append(args, "-cpu="+p.cpu)
	}
	if o.run != "" {
		args = append(args, "-run="+o.run)
	}
	args = append(args, o.pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Stderr = os.Stderr // build errors also arrive on stdout as JSON
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("flakehunt: go test: %w", err)
	}
	h.consume(out, o, p)
	err = cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("flakehunt: go test: %w", err)
	}
	return nil
}

// consume reads one pass's events and records each test's outcome with the
// output it printed. A test whose subtest failed, and a package whose test
// failed, are not counted again: the row that matters is the leaf.
func (h *hunt) consume(r io.Reader, o options, p pass) {
	output := make(map[testID][]string)
	failed := make(map[testID]bool) // this pass's failures
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Action == "build-output" && e.ImportPath != "" { // a build error, told before the package's fail
			e.Action = "output"
			e.Package, _, _ = strings.Cut(e.ImportPath, " ")
		}
		if e.Package == "" {
			continue
		}
		id := testID{e.Package, e.Test}
		switch e.Action {
		case "output":
			if len(output[id]) < 400 {
				output[id] = append(output[id], e.Output)
			}
		case "pass":
			if e.Test != "" {
				h.get(id).passes++
			}
			delete(output, id)
		case "fail":
			if !childFailed(failed, id) {
				res := h.get(id)
				res.failures++
				if res.first == "" {
					res.first = failureMessage(output[id])
					res.replay = replay(o, p, id)
				}
			}
			failed[id] = true
			delete(output, id)
		}
	}
}

func (h *hunt) get(id testID) *result {
	r := h.results[id]
	if r == nil {
		r = &result{}
		h.results[id] = r
	}
	return r
}

// childFailed reports whether a test or package below id failed already.
func childFailed(failed map[testID]bool, id testID) bool {
	for f := range failed {
		if f.pkg != id.pkg {
			continue
		}
		if id.test == "" || strings.HasPrefix(f.test, id.test+"/") {
			return true
		}
	}
	return false
}

// failureMessage picks the most telling line of a failed test's output: the
// first assertion, panic, race report or timeout, else the first line a
// t.Error or t.Fatal wrote (from any file: helpers and cleanups report from
// non-test files too), else the last line.
func failureMessage(lines []string) string {
	markers := []string{"Error:", "panic:", "WARNING: DATA RACE", "test timed out"}
	for _, m := range markers {
		for i, l := range lines {
			if !strings.Contains(l, m) {
				continue
			}
			msg := strings.TrimSpace(l)
			if m == "Error:" && i+1 < len(lines) { // testify: the message is on the following lines
				msg = strings.TrimSpace(strings.TrimPrefix(msg, "Error:")) + " " + strings.TrimSpace(lines[i+1])
			}
			return clip(msg, 160)
		}
	}
	for _, l := range lines {
		if testLog.MatchString(l) {
			return clip(strings.TrimSpace(l), 160)
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return clip(s, 160)
		}
	}
	return "(no output)"
}

// testLog matches a line written by t.Log, t.Error or t.Fatal: indented,
// then file.go:line: .
var testLog = regexp.MustCompile(`^\s+[\w.-]+\.go:\d+: `)

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func replay(o options, p pass, id testID) string {
	cmd := "go test -count=1 -shuffle=" + strconv.FormatInt(p.seed, 10)
	if o.race {
		cmd += " -race"
	}
	if p.cpu != "" {
		cmd += " -cpu=" + p.cpu
	}
	if id.test != "" {
		top, _, _ := strings.Cut(id.test, "/")
		cmd += " -run='^" + top + "$'"
	}
	return cmd + " " + id.pkg
}

func (h *hunt) report(w io.Writer, o options) {
	ids := make([]testID, 0, len(h.results))
	tests, runs := 0, 0
	for id, r := range h.results {
		if id.test != "" {
			tests++
			runs += r.passes + r.failures
		}
		if r.failures > 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := h.results[ids[i]], h.results[ids[j]]
		if a.failures != b.failures {
			return a.failures > b.failures
		}
		if ids[i].pkg != ids[j].pkg {
			return ids[i].pkg < ids[j].pkg
		}
		return ids[i].test < ids[j].test
	})
	load := fmt.Sprintf("%d busy goroutines", o.load)
	if o.loadCmd != "" {
		load = o.loadCmd
	}
	fmt.Fprintf(w, "\nflakehunt: %d passes × -cpu %v, load: %s; %d tests, %d test runs, %d failing\n\n",
		o.passes, cpuList(o.cpus), load, tests, runs, len(ids))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "test\tfailures/passes\tfirst failure")
	for _, id := range ids {
		r := h.results[id]
		name := id.pkg + " " + id.test
		if id.test == "" {
			name = id.pkg + " (package)"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\n", name, r.failures, r.passes, r.first)
	}
	if len(ids) == 0 {
		fmt.Fprintln(tw, "(none)\t\t")
	}
	tw.Flush()
	for _, id := range ids {
		fmt.Fprintf(w, "replay: %s\n", h.results[id].replay)
	}
}

func cpuList(cpus []string) string {
	if len(cpus) == 1 && cpus[0] == "" {
		return "default"
	}
	return strings.Join(cpus, ",")
}
