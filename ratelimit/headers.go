package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Canonical header names, written straight into the header map so that no
// canonicalisation runs per request.
const (
	headerPolicy         = "Ratelimit-Policy"
	headerRateLimit      = "Ratelimit"
	headerLegacyLimit    = "X-Ratelimit-Limit"
	headerLegacyRemain   = "X-Ratelimit-Remaining"
	headerLegacyReset    = "X-Ratelimit-Reset"
	headerRetryAfter     = "Retry-After"
	maxHeaderBlockValues = 6
)

// policyName is the name of the i-th limit in the RateLimit headers.
func policyName(l Limit, i int) string {
	if l.Name != "" {
		return l.Name
	}
	if i == 0 {
		return "default"
	}
	return "limit" + strconv.Itoa(i)
}

// policyHeader renders the RateLimit-Policy field of
// draft-ietf-httpapi-ratelimit-headers: one item per limit, with its quota
// (q) and window in seconds (w, rounded up).
func policyHeader(limits []Limit) string {
	var b strings.Builder
	for i, l := range limits {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('"')
		b.WriteString(policyName(l, i))
		b.WriteString(`";q=`)
		b.Write(appendSFInt(nil, int64(l.Capacity())))
		b.WriteString(";w=")
		b.WriteString(strconv.FormatInt(ceilSeconds(l.Period), 10))
	}
	return b.String()
}

// sfMaxInteger is the largest Integer of RFC 9651 (15 digits). Limits may
// count beyond it (a Burst up to 2^52); a field then says sfMaxInteger,
// which understates what a client may do and never overstates it.
const sfMaxInteger = 999_999_999_999_999

// appendSFInt appends n, clamped to RFC 9651's Integers, to b.
func appendSFInt(b []byte, n int64) []byte {
	return strconv.AppendInt(b, min(n, sfMaxInteger), 10)
}

// resetSeconds is the t of the RateLimit field: the draft's effective
// window, the seconds within which the client can use no more than r. That
// is the time until Remaining grows; on a denial it is Retry-After itself,
// so that neither field names an earlier moment than the other (for a
// cost above one, more than r may fit before the request does, but the
// client is to wait for Retry-After anyway).
func resetSeconds(r Result) int64 {
	if !r.Allowed {
		return retrySeconds(r)
	}
	return ceilSeconds(r.RefillAfter)
}

// retrySeconds is the Retry-After of a denial: never 0, which would invite
// an immediate retry.
func retrySeconds(r Result) int64 { return max(ceilSeconds(r.RetryAfter), 1) }

// ceilSeconds rounds d up to whole seconds, as Retry-After and the draft's
// delta-seconds require: rounding down would invite a retry that fails.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// headerBlock holds every header value of one response in one allocation.
type headerBlock struct {
	vals [maxHeaderBlockValues]string
	buf  [256]byte
}

// writeHeaders sets the rate-limit fields of a response in one allocation:
// the values are rendered into one buffer, turned into one string without a
// copy, and the header map's []string values are slices of one array, all
// inside the same block.
func writeHeaders(h http.Header, policy string, limits []Limit, r Result, legacy bool) {
	blk := new(headerBlock)
	b := blk.buf[:0]
	idx := 0
	for i, l := range limits {
		if l == r.Limit {
			idx = i
			break
		}
	}
	var ends [maxHeaderBlockValues]int
	n := 0
	b = append(b, '"')
	b = append(b, policyName(r.Limit, idx)...)
	b = append(b, `";r=`...)
	b = appendSFInt(b, int64(r.Remaining))
	b = append(b, ";t="...)
	b = appendSFInt(b, resetSeconds(r))
	ends[n] = len(b)
	n++
	if legacy {
		b = strconv.AppendInt(b, int64(r.Limit.Capacity()), 10)
		ends[n] = len(b)
		n++
		b = strconv.AppendInt(b, int64(r.Remaining), 10)
		ends[n] = len(b)
		n++
		b = strconv.AppendInt(b, ceilSeconds(r.ResetAfter), 10)
		ends[n] = len(b)
		n++
	}
	if !r.Allowed {
		b = strconv.AppendInt(b, retrySeconds(r), 10)
		ends[n] = len(b)
		n++
	}
	// b is never written again, so the string may share its bytes.
	s := unsafe.String(unsafe.SliceData(b), len(b))
	start := 0
	for i := range n {
		blk.vals[i] = s[start:ends[i]]
		start = ends[i]
	}
	v := blk.vals[:]
	set := func(name string) {
		h[name] = v[:1:1]
		v = v[1:]
	}
	if policy != "" {
		blk.vals[n] = policy
		h[headerPolicy] = blk.vals[n : n+1 : n+1]
	}
	set(headerRateLimit)
	if legacy {
		set(headerLegacyLimit)
		set(headerLegacyRemain)
		set(headerLegacyReset)
	}
	if !r.Allowed {
		set(headerRetryAfter)
	}
}
