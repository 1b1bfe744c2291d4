package httpsec

import (
	"net/netip"
	"strconv"
	"strings"
)

// OutboundError reports a request, connection or response an [Outbound]
// refused, with what was refused and why. It matches
// [ErrOutboundRefused] and its Err with [errors.Is]; [errors.As] finds it
// through the *url.Error of an http.Client and the *net.OpError of a
// dialer.
type OutboundError struct {
	// Err says why: ErrSchemeNotAllowed, ErrDestinationNotAllowed,
	// ErrPortNotAllowed, ErrAddressNotAllowed, ErrNumericHost,
	// ErrTooManyRedirects or ErrResponseTooLarge.
	Err error
	// Host is the host of the request URL, or the address dialed when the
	// refusal came from [Outbound.Control].
	Host string
	// Addr is the IP address refused (ErrAddressNotAllowed), or the
	// address a numeric host stands for (ErrNumericHost) when it has one.
	Addr netip.Addr
	// Port is the port refused, or the port of Addr; 0 when unknown.
	Port uint16
	// Class is the class of Addr. With ErrNumericHost it can be [Public]:
	// the spelling is refused, whatever it stands for.
	Class AddrClass
	// Block is the special-purpose block that holds Addr, or that holds
	// Embedded when Addr carries an IPv4 address.
	Block netip.Prefix
	// Embedded is the IPv4 address that an IPv6 Addr carries and that
	// decided its class (IPv4-mapped, NAT64, 6to4, Teredo); invalid
	// otherwise.
	Embedded netip.Addr
	// Detail completes the reason where Err alone cannot (the scheme, the
	// limit); may be empty.
	Detail string
}

// Permanent reports true: the same request would be refused again, so a
// retry policy that asks (resilience.DefaultRetryIf does) does not retry
// it.
func (e *OutboundError) Permanent() bool { return true }

// Error says what was refused and why, for a log.
func (e *OutboundError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Host != "" {
		b.WriteString(": ")
		b.WriteString(quote(e.Host))
	}
	if e.Addr.IsValid() && e.Err != ErrNumericHost {
		b.WriteString(" is ")
		if e.Embedded.IsValid() {
			b.WriteString("an IPv6 form of ")
			b.WriteString(e.Embedded.String())
			b.WriteString(", ")
		}
		b.WriteString(e.Class.String())
		if e.Block.IsValid() {
			b.WriteString(" (")
			b.WriteString(e.Block.String())
			b.WriteString(")")
		}
	} else if e.Addr.IsValid() {
		b.WriteString(" stands for ")
		b.WriteString(e.Addr.String())
	}
	if e.Port != 0 && e.Err == ErrPortNotAllowed {
		b.WriteString(": port ")
		b.WriteString(strconv.Itoa(int(e.Port)))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *OutboundError) Unwrap() error { return e.Err }

// Is reports whether target is ErrOutboundRefused, which every
// OutboundError matches.
func (e *OutboundError) Is(target error) bool { return target == ErrOutboundRefused }
