// Command flakehunt runs a module's tests many times under a perturbed
// scheduler and reports every test that failed at least once.
//
// A test that passes alone can still fail when the machine is busy, when the
// tests run in another order, or when the runtime has fewer or more Ps than
// the author's laptop. flakehunt makes those conditions on purpose: each pass
// runs
//
//	go test -race -count=1 -shuffle=<seed> -cpu=<n> <packages>
//
// with a fresh shuffle seed, cycling through the -cpu values given, while
// goroutines of its own (or a command you name) keep the CPUs busy. At the
// end it prints one row per test that failed: the failures and passes, the
// first failure's message, and the go test command that replays it (same
// package, seed and -cpu).
//
// Usage:
//
//	go run ./scripts/flakehunt [flags] [packages]
//
// Packages default to ./... . Flags:
//
//	-passes n    passes per -cpu value (default 10)
//	-load n      busy-looping goroutines beside the tests (default: the number of CPUs; 0 for none)
//	-load-cmd s  run this shell command as the load instead, e.g. "stress-ng --cpu 2" (killed at the end)
//	-cpu list    comma-separated -cpu values, each run -passes times (default: the go test default)
//	-run re      only tests matching re
//	-race        use the race detector (default true)
//	-timeout d   go test -timeout per pass (default 10m)
//
// The exit status is 1 when any test failed, 2 on a usage error.
//
// See CONTRIBUTING.md.
package main
