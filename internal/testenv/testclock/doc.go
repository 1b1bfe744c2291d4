// Package testclock is the fake clock of Bedrock's tests and conformance
// suites: it moves only when told. It lives apart from package testenv so
// that the exported suites that use it (sessiontest, idempotencytest) do not
// compile the database drivers testenv needs.
package testclock
