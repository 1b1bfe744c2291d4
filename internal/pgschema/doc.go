// Package pgschema holds what Bedrock's PostgreSQL migrations share: the
// lock that lets many processes run one package's Migrate at once.
package pgschema
