// Package httpfield holds the pieces of HTTP field-value grammar (RFC 9110
// section 5.6) that several packages parse, so that each list element is
// trimmed by one rule everywhere.
package httpfield
