// Package problem writes RFC 9457 problem details (application/problem+json).
//
// It is the one place where Bedrock's middleware packages render an error
// for a client, so that every package answers in the same shape. The public,
// richer type lives in package validate; this package is internal because
// its only job is a consistent wire format.
//
// Three rules hold for every writer, because they are enforced here:
//
//   - with type "about:blank" the title is the status code's phrase from
//     RFC 9110 (RFC 9457 §4.2.1), whatever title the caller gave;
//   - a problem drops the headers that described the representation the
//     handler meant to send (see [Rendered.Write]); a problem sent in place
//     of a response the handler never finished (a panic, a body limit
//     tripped mid-read) also drops the handler's cookies and caching
//     (see [Rendered.Replace]);
//   - client input echoed in a problem is cut with [Excerpt].
package problem
