package httpsec

import (
	"net/netip"
	"strconv"
)

// AddrClass names the kind of destination an IP address is, for the
// outbound policy: [Public] for an address anyone on the Internet can
// reach, or the special-purpose block that makes it unfit as the
// destination of a request a service makes on a user's behalf. See
// [ClassifyAddr].
type AddrClass uint8

// The classes of [ClassifyAddr], from the IANA IPv4 and IPv6
// Special-Purpose Address Registries, the IPv4 and IPv6 multicast
// registries and the IPv6 Address Space registry.
const (
	// Public is a globally reachable unicast address.
	Public AddrClass = iota
	// Unspecified is 0.0.0.0 or ::, which the kernel connects to the
	// local host.
	Unspecified
	// Loopback is 127.0.0.0/8 or ::1.
	Loopback
	// Private is RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16),
	// an RFC 4193 unique local address (fc00::/7), or the local-use
	// NAT64 prefix 64:ff9b:1::/48 (RFC 8215).
	Private
	// LinkLocal is 169.254.0.0/16, which holds the cloud metadata address
	// 169.254.169.254, or fe80::/10.
	LinkLocal
	// Shared is the carrier-grade NAT space 100.64.0.0/10 (RFC 6598).
	Shared
	// Multicast is 224.0.0.0/4 or ff00::/8.
	Multicast
	// Broadcast is the limited broadcast address 255.255.255.255.
	Broadcast
	// Benchmarking is 198.18.0.0/15 or 2001:2::/48 (RFC 2544, RFC 5180).
	Benchmarking
	// Documentation is 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
	// 2001:db8::/32 or 3fff::/20 (RFC 5737, RFC 3849, RFC 9637).
	Documentation
	// Reserved is every other block that is not globally reachable:
	// 0.0.0.0/8, 192.0.0.0/24, the deprecated 6to4 relay anycast
	// 192.88.99.0/24, 240.0.0.0/4, the discard-only and segment-routing
	// blocks, the IETF protocol assignments of 2001::/23 that are not
	// globally reachable, and all IPv6 space outside 2000::/3 that no
	// other class names.
	Reserved
)

var addrClassNames = [...]string{
	Public:        "public",
	Unspecified:   "unspecified",
	Loopback:      "loopback",
	Private:       "private",
	LinkLocal:     "link-local",
	Shared:        "shared (carrier-grade NAT)",
	Multicast:     "multicast",
	Broadcast:     "broadcast",
	Benchmarking:  "benchmarking",
	Documentation: "documentation",
	Reserved:      "reserved",
}

// String returns the class in words, such as "link-local".
func (c AddrClass) String() string {
	if int(c) < len(addrClassNames) {
		return addrClassNames[c]
	}
	return "AddrClass(" + strconv.Itoa(int(c)) + ")"
}

// ClassifyAddr returns the class of a, [Public] when a is a globally
// reachable unicast address. An IPv6 address that carries an IPv4 address
// the network delivers to (IPv4-mapped ::ffff:0:0/96, IPv4-compatible
// ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) has the
// class of that IPv4 address; Teredo's server and client addresses must
// both be public. A zone is ignored, and the invalid zero Addr is
// [Unspecified]. ClassifyAddr does not allocate.
func ClassifyAddr(a netip.Addr) AddrClass {
	return classify(a).class
}

// addrVerdict is the full answer of classify: the class, the block that
// decided it, and the IPv4 address it was read from when a embeds one.
type addrVerdict struct {
	class    AddrClass
	block    netip.Prefix
	embedded netip.Addr
}

// embedding says where an IPv6 block carries an IPv4 address.
type embedding uint8

const (
	embedNone   embedding = iota
	embedLow32            // the last 32 bits: mapped, compatible, NAT64 /96
	embed6to4             // bits 16 to 47
	embedTeredo           // server in bits 32 to 63, client inverted in the last 32
	embedCompat           // ::/96: the embedded class, or reserved when public
)

type specialBlock struct {
	prefix netip.Prefix
	class  AddrClass
	embed  embedding
}

func block(s string, c AddrClass) specialBlock {
	return specialBlock{prefix: netip.MustParsePrefix(s), class: c}
}

func embedBlock(s string, e embedding) specialBlock {
	return specialBlock{prefix: netip.MustParsePrefix(s), embed: e}
}

// The tables are searched in order and the first block that contains the
// address decides, so a more specific block comes before the one holding
// it. Blocks that IANA lists as globally reachable inside a block that is
// not (the anycast addresses of 192.0.0.0/24 and 2001::/23) are Public
// entries placed first. They are built once, read-only afterwards.
var (
	v4Blocks = [...]specialBlock{
		block("0.0.0.0/32", Unspecified),
		block("0.0.0.0/8", Reserved),
		block("10.0.0.0/8", Private),
		block("100.64.0.0/10", Shared),
		block("127.0.0.0/8", Loopback),
		block("169.254.0.0/16", LinkLocal),
		block("172.16.0.0/12", Private),
		block("192.0.0.9/32", Public),  // Port Control Protocol anycast
		block("192.0.0.10/32", Public), // TURN anycast
		block("192.0.0.0/24", Reserved),
		block("192.0.2.0/24", Documentation),
		block("192.88.99.0/24", Reserved), // deprecated 6to4 relay anycast (RFC 7526)
		block("192.168.0.0/16", Private),
		block("198.18.0.0/15", Benchmarking),
		block("198.51.100.0/24", Documentation),
		block("203.0.113.0/24", Documentation),
		block("224.0.0.0/4", Multicast),
		block("255.255.255.255/32", Broadcast),
		block("240.0.0.0/4", Reserved),
	}
	v6Blocks = [...]specialBlock{
		block("::/128", Unspecified),
		block("::1/128", Loopback),
		embedBlock("::ffff:0:0/96", embedLow32),
		embedBlock("::/96", embedCompat),
		embedBlock("64:ff9b::/96", embedLow32),
		block("64:ff9b:1::/48", Private),
		block("2001:1::1/128", Public), // Port Control Protocol anycast
		block("2001:1::2/128", Public), // TURN anycast
		block("2001:1::3/128", Public), // DNS-SD service registration anycast
		block("2001:2::/48", Benchmarking),
		block("2001:3::/32", Public),     // AMT
		block("2001:4:112::/48", Public), // AS112-v6
		block("2001:20::/28", Public),    // ORCHIDv2
		block("2001:30::/28", Public),    // drone remote ID
		embedBlock("2001::/32", embedTeredo),
		block("2001::/23", Reserved),
		block("2001:db8::/32", Documentation),
		embedBlock("2002::/16", embed6to4),
		block("3fff::/20", Documentation),
		block("2000::/3", Public),
		block("5f00::/16", Reserved), // segment routing SIDs (RFC 9602)
		block("fc00::/7", Private),
		block("fe80::/10", LinkLocal),
		block("ff00::/8", Multicast),
		block("::/0", Reserved),
	}
)

func classify(a netip.Addr) addrVerdict {
	if !a.IsValid() {
		return addrVerdict{class: Unspecified}
	}
	a = a.WithZone("")
	if a.Is4() {
		return classify4(a)
	}
	for _, b := range &v6Blocks {
		if !b.prefix.Contains(a) {
			continue
		}
		if b.embed == embedNone {
			return addrVerdict{class: b.class, block: b.prefix}
		}
		return classifyEmbedded(a, b)
	}
	return addrVerdict{class: Reserved} // unreachable: ::/0 holds everything
}

func classify4(a netip.Addr) addrVerdict {
	for _, b := range &v4Blocks {
		if b.prefix.Contains(a) {
			return addrVerdict{class: b.class, block: b.prefix}
		}
	}
	return addrVerdict{class: Public}
}

func classifyEmbedded(a netip.Addr, b specialBlock) addrVerdict {
	s := a.As16()
	var v4 netip.Addr
	switch b.embed {
	case embedLow32, embedCompat:
		v4 = netip.AddrFrom4([4]byte(s[12:16]))
	case embed6to4:
		v4 = netip.AddrFrom4([4]byte(s[2:6]))
	case embedTeredo:
		server := netip.AddrFrom4([4]byte(s[4:8]))
		if v := classify4(server); v.class != Public {
			v.embedded = server
			return v
		}
		v4 = netip.AddrFrom4([4]byte{^s[12], ^s[13], ^s[14], ^s[15]})
	}
	v := classify4(v4)
	if v.class == Public {
		if b.embed == embedCompat {
			// Deprecated (RFC 4291 2.5.5.1): no stack routes it to v4,
			// whatever v4 is.
			return addrVerdict{class: Reserved, block: b.prefix}
		}
		return addrVerdict{class: Public}
	}
	v.embedded = v4
	return v
}
