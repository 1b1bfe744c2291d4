package ratelimit

import (
	"net/http"
	"strconv"
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
// draft-ietf-httpapi-ratelimit-headers: one item per limit, whose quota q
// per window w (whole seconds) is a promise that a client keeping to it is
// never refused; see policyOf.
func policyHeader(limits []Limit) string {
	var b []byte
	for i, l := range limits {
		if i > 0 {
			b = append(b, ", "...)
		}
		q, w, burst := policyOf(l)
		b = append(b, '"')
		b = append(b, policyName(l, i)...)
		b = append(b, `";q=`...)
		b = appendSFInt(b, q)
		b = append(b, ";w="...)
		b = appendSFInt(b, w)
		if burst > 0 {
			b = append(b, ";"+burstParam+"="...)
			b = appendSFInt(b, burst)
		}
	}
	return string(b)
}

// burstParam names the burst of a GCRA or TokenBucket limit in
// RateLimit-Policy. The draft defines no burst and asks that such
// parameters carry a vendor prefix.
const burstParam = "bedrock-burst"

// policyOf returns what RateLimit-Policy advertises for l: q per w seconds
// is the sustained rate, and burst, when not zero, the bucket's capacity.
//
// Without a burst the item reads "at most q requests in any w seconds",
// and every algorithm admits every such client: GCRA and TokenBucket (with
// Burst == Rate) because q never exceeds the bucket and w never undercuts
// the q intervals that refill it (Interval is rounded up to a microsecond,
// so w is Rate intervals rounded up to a second, which for most limits is
// Period); FixedWindow and SlidingLog because no window of Period holds
// more than any window of w ≥ Period; SlidingWindow only with w = 2×Period,
// because it charges the previous window's events as if spread evenly, so
// a client that spent its quota early in that window is still charged for
// most of it: any schedule with at most Rate events per 2×Period fits,
// while one with Rate per Period (even evenly paced) is refused at times.
//
// With a burst (GCRA or TokenBucket with Burst != Rate) the item reads "a
// bucket of burst requests, refilled at q per w", which is the limit
// exactly. A client that ignores the parameter and sends q at once is
// refused when Burst < Rate.
func policyOf(l Limit) (q, w, burst int64) {
	q = int64(l.Rate)
	// In microseconds, where Validate keeps these products far from
	// overflow (as nanoseconds they could pass 2^63).
	var us int64
	switch l.Algorithm {
	case GCRA, TokenBucket:
		us = q * l.Interval().Microseconds()
		if l.Capacity() != l.Rate {
			burst = int64(l.Capacity())
		}
	case SlidingWindow:
		us = 2 * l.Period.Microseconds()
	default:
		us = l.Period.Microseconds()
	}
	return q, (us + 999_999) / 1_000_000, burst
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
