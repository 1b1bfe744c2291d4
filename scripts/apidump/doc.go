// Command apidump writes the exported API of every Bedrock package as text,
// one file per package under api/, so that every change to the API is a
// diff of those files that a reviewer sees in the same commit.
//
// Usage:
//
//	go run ./scripts/apidump          # rewrite api/ from the code
//	go run ./scripts/apidump -check   # fail if api/ and the code disagree (CI)
//
// A package's file lists its exported constants, variables, functions, types
// (struct fields and interface methods included) and methods, as the
// compiler sees them for the default build context, without doc comments: a
// reworded comment is not an API change. A struct or interface whose
// unexported members were left out says so ("// has unexported fields"),
// because that decides whether users can write a composite literal of it.
//
// Packages under internal/, examples/ and scripts/ and packages named main
// are not part of the API and are skipped; nested modules (benchmarks/,
// conformance/) are not in this module and are skipped by go list.
package main
