// Package benchmarks compares Bedrock with the libraries it replaces. It holds
// only benchmarks; see README.md for how to run them and the latest figures.
package benchmarks
