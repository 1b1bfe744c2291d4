package httpsec_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/httpsec"
)

// ianaEntry is one row of the IANA IPv4 or IPv6 Special-Purpose Address
// Registry (and, for multicast and the unassigned IPv6 space, of the
// multicast and IPv6 Address Space registries), with the class the
// outbound policy gives it. global mirrors the registry's "Globally
// Reachable" column; a row that is globally reachable is Public whatever
// holds it. Written here from the registries, independently of the
// package's tables, and compared by longest match instead of the
// package's first match.
type ianaEntry struct {
	prefix string
	class  httpsec.AddrClass
}

var ianaReference = []ianaEntry{
	// IPv4 Special-Purpose Address Registry.
	{"0.0.0.0/8", httpsec.Reserved},         // "this network", RFC 791
	{"0.0.0.0/32", httpsec.Unspecified},     // "this host on this network", RFC 1122
	{"10.0.0.0/8", httpsec.Private},         // RFC 1918
	{"100.64.0.0/10", httpsec.Shared},       // RFC 6598
	{"127.0.0.0/8", httpsec.Loopback},       // RFC 1122
	{"169.254.0.0/16", httpsec.LinkLocal},   // RFC 3927
	{"172.16.0.0/12", httpsec.Private},      // RFC 1918
	{"192.0.0.0/24", httpsec.Reserved},      // IETF protocol assignments, RFC 6890
	{"192.0.0.0/29", httpsec.Reserved},      // DS-Lite, RFC 7335
	{"192.0.0.8/32", httpsec.Reserved},      // IPv4 dummy address, RFC 7600
	{"192.0.0.9/32", httpsec.Public},        // PCP anycast, RFC 7723: globally reachable
	{"192.0.0.10/32", httpsec.Public},       // TURN anycast, RFC 8155: globally reachable
	{"192.0.0.170/32", httpsec.Reserved},    // NAT64/DNS64 discovery, RFC 7050
	{"192.0.0.171/32", httpsec.Reserved},    // NAT64/DNS64 discovery, RFC 7050
	{"192.0.2.0/24", httpsec.Documentation}, // TEST-NET-1, RFC 5737
	{"192.31.196.0/24", httpsec.Public},     // AS112-v4, RFC 7535: globally reachable
	{"192.52.193.0/24", httpsec.Public},     // AMT, RFC 7450: globally reachable
	{"192.88.99.0/24", httpsec.Reserved},    // deprecated 6to4 relay anycast, RFC 7526
	{"192.168.0.0/16", httpsec.Private},     // RFC 1918
	{"192.175.48.0/24", httpsec.Public},     // AS112 direct delegation, RFC 7534: globally reachable
	{"198.18.0.0/15", httpsec.Benchmarking}, // RFC 2544
	{"198.51.100.0/24", httpsec.Documentation},
	{"203.0.113.0/24", httpsec.Documentation},
	{"240.0.0.0/4", httpsec.Reserved},         // RFC 1112
	{"255.255.255.255/32", httpsec.Broadcast}, // RFC 919
	{"224.0.0.0/4", httpsec.Multicast},        // IPv4 Multicast Address Space Registry
	{"::1/128", httpsec.Loopback},             // IPv6 Special-Purpose Address Registry
	{"::/128", httpsec.Unspecified},           //
	{"64:ff9b:1::/48", httpsec.Private},       // local-use IPv4/IPv6 translation, RFC 8215
	{"100::/64", httpsec.Reserved},            // discard-only, RFC 6666
	{"100:0:0:1::/64", httpsec.Reserved},      // dummy IPv6 prefix, RFC 9780
	{"2001::/23", httpsec.Reserved},           // IETF protocol assignments, RFC 2928
	{"2001:1::1/128", httpsec.Public},         // PCP anycast: globally reachable
	{"2001:1::2/128", httpsec.Public},         // TURN anycast: globally reachable
	{"2001:1::3/128", httpsec.Public},         // DNS-SD SRP anycast: globally reachable
	{"2001:2::/48", httpsec.Benchmarking},     // RFC 5180
	{"2001:3::/32", httpsec.Public},           // AMT: globally reachable
	{"2001:4:112::/48", httpsec.Public},       // AS112-v6: globally reachable
	{"2001:10::/28", httpsec.Reserved},        // deprecated ORCHID, RFC 4843
	{"2001:20::/28", httpsec.Public},          // ORCHIDv2: globally reachable
	{"2001:30::/28", httpsec.Public},          // drone remote ID: globally reachable
	{"2001:db8::/32", httpsec.Documentation},  // RFC 3849
	{"2620:4f:8000::/48", httpsec.Public},     // AS112 direct delegation: globally reachable
	{"3fff::/20", httpsec.Documentation},      // RFC 9637
	{"5f00::/16", httpsec.Reserved},           // segment routing SIDs, RFC 9602
	{"fc00::/7", httpsec.Private},             // unique local, RFC 4193
	{"fe80::/10", httpsec.LinkLocal},          // RFC 4291
	{"ff00::/8", httpsec.Multicast},           // IPv6 Multicast Address Space Registry
	{"fec0::/10", httpsec.Reserved},           // deprecated site-local, RFC 3879
}

// referenceClass is the class the registries give a, computed from the
// table above by longest match, from net/netip's own predicates, and from
// the IPv4 address the translation and tunnelling forms carry.
func referenceClass(a netip.Addr) httpsec.AddrClass {
	a = a.WithZone("")
	if a.Is4In6() {
		return referenceClass(a.Unmap())
	}
	b := a.As16()
	if a.Is6() {
		switch {
		case a == netip.IPv6Unspecified() || a == netip.IPv6Loopback():
		case netip.MustParsePrefix("::/96").Contains(a):
			if c := referenceClass(netip.AddrFrom4([4]byte(b[12:]))); c != httpsec.Public {
				return c
			}
			return httpsec.Reserved
		case netip.MustParsePrefix("64:ff9b::/96").Contains(a):
			return referenceClass(netip.AddrFrom4([4]byte(b[12:])))
		case netip.MustParsePrefix("2002::/16").Contains(a):
			return referenceClass(netip.AddrFrom4([4]byte(b[2:6])))
		case netip.MustParsePrefix("2001::/32").Contains(a):
			if c := referenceClass(netip.AddrFrom4([4]byte(b[4:8]))); c != httpsec.Public {
				return c
			}
			client := binary.BigEndian.Uint32(b[12:]) ^ 0xffffffff
			return referenceClass(netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, client))))
		}
	}
	switch {
	case a.IsUnspecified():
		return httpsec.Unspecified
	case a.IsLoopback():
		return httpsec.Loopback
	case a.IsMulticast():
		return httpsec.Multicast
	case a.IsLinkLocalUnicast():
		return httpsec.LinkLocal
	case a.IsPrivate():
		return httpsec.Private
	}
	best, class := -1, httpsec.Public
	for _, e := range ianaReference {
		p := netip.MustParsePrefix(e.prefix)
		if p.Contains(a) && p.Bits() > best {
			best, class = p.Bits(), e.class
		}
	}
	if best < 0 && a.Is6() && !netip.MustParsePrefix("2000::/3").Contains(a) {
		return httpsec.Reserved // IPv6 Address Space Registry: reserved by the IETF
	}
	return class
}

func checkAgainstReference(t *testing.T, a netip.Addr) {
	t.Helper()
	got := httpsec.ClassifyAddr(a)
	if want := referenceClass(a); got != want {
		t.Fatalf("ClassifyAddr(%v) = %v, want %v", a, got, want)
	}
	u := a.Unmap()
	if got == httpsec.Public && (!u.IsGlobalUnicast() || u.IsPrivate() || u.IsLoopback() ||
		u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() || u.IsInterfaceLocalMulticast() ||
		u.IsMulticast() || u.IsUnspecified()) {
		t.Fatalf("ClassifyAddr(%v) = public, but net/netip says it is not global unicast", a)
	}
}

// Every boundary of every registry row, and the addresses just outside it,
// in every form that carries an IPv4 address.
func TestClassifyAddr_AgreesWithTheRegistriesAtEveryBoundary(t *testing.T) {
	for _, e := range ianaReference {
		p := netip.MustParsePrefix(e.prefix)
		first := p.Addr()
		last := lastAddr(p)
		for _, a := range []netip.Addr{first, last, first.Prev(), last.Next(), first.Next(), last.Prev()} {
			if !a.IsValid() {
				continue
			}
			checkAgainstReference(t, a)
			if a.Is4() {
				for _, form := range ipv6Forms(a) {
					checkAgainstReference(t, form)
				}
			}
		}
	}
}

// ipv6Forms returns the IPv6 addresses that carry v4: IPv4-mapped,
// IPv4-compatible, NAT64, 6to4, and Teredo with v4 as client and as
// server (beside a public partner).
func ipv6Forms(v4 netip.Addr) []netip.Addr {
	b := v4.As4()
	mk := func(prefix []byte, at int) netip.Addr {
		var s [16]byte
		copy(s[:], prefix)
		copy(s[at:], b[:])
		return netip.AddrFrom16(s)
	}
	teredoClient := netip.MustParseAddr("2001:0:808:808::").As16()
	for i := range 4 {
		teredoClient[12+i] = ^b[i]
	}
	teredoServer := netip.MustParseAddr("2001::f7f7:f7f7").As16() // client 8.8.8.8
	copy(teredoServer[4:8], b[:])
	return []netip.Addr{
		netip.AddrFrom16(v4.As16()),
		mk(nil, 12),
		mk([]byte{0, 0x64, 0xff, 0x9b}, 12),
		mk([]byte{0x20, 0x02}, 2),
		netip.AddrFrom16(teredoClient),
		netip.AddrFrom16(teredoServer),
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestClassifyAddr(t *testing.T) {
	cases := map[string]httpsec.AddrClass{
		"8.8.8.8":                              httpsec.Public,
		"1.1.1.1":                              httpsec.Public,
		"2606:4700:4700::1111":                 httpsec.Public,
		"::ffff:8.8.8.8":                       httpsec.Public,
		"64:ff9b::808:808":                     httpsec.Public,
		"2002:808:808::1":                      httpsec.Public,
		"127.0.0.1":                            httpsec.Loopback,
		"127.255.255.254":                      httpsec.Loopback,
		"::1":                                  httpsec.Loopback,
		"::ffff:127.0.0.1":                     httpsec.Loopback,
		"::127.0.0.1":                          httpsec.Loopback,
		"::8.8.8.8":                            httpsec.Reserved,
		"0.0.0.0":                              httpsec.Unspecified,
		"::":                                   httpsec.Unspecified,
		"0.1.2.3":                              httpsec.Reserved,
		"10.0.0.1":                             httpsec.Private,
		"172.16.0.1":                           httpsec.Private,
		"172.32.0.1":                           httpsec.Public,
		"192.168.255.255":                      httpsec.Private,
		"fd12:3456::1":                         httpsec.Private,
		"169.254.169.254":                      httpsec.LinkLocal,
		"fe80::1":                              httpsec.LinkLocal,
		"fe80::1%eth0":                         httpsec.LinkLocal,
		"100.64.0.1":                           httpsec.Shared,
		"100.128.0.1":                          httpsec.Public,
		"224.0.0.251":                          httpsec.Multicast,
		"ff02::fb":                             httpsec.Multicast,
		"255.255.255.255":                      httpsec.Broadcast,
		"198.18.0.1":                           httpsec.Benchmarking,
		"198.19.255.255":                       httpsec.Benchmarking,
		"2001:2::1":                            httpsec.Benchmarking,
		"192.0.2.1":                            httpsec.Documentation,
		"198.51.100.1":                         httpsec.Documentation,
		"203.0.113.1":                          httpsec.Documentation,
		"2001:db8::1":                          httpsec.Documentation,
		"240.0.0.1":                            httpsec.Reserved,
		"64:ff9b::a00:1":                       httpsec.Private,
		"64:ff9b::7f00:1":                      httpsec.Loopback,
		"64:ff9b:1::808:808":                   httpsec.Private,
		"2002:c0a8:101::1":                     httpsec.Private,
		"2001:0:4136:e378:8000:63bf:80ff:fffe": httpsec.Loopback, // client 127.0.0.1
		"2001:0:a00:1::f7f7:f7f7":              httpsec.Private,  // server 10.0.0.1
		"2001:0:4136:e378:8000:63bf:f7f7:f7f7": httpsec.Public,   // server 65.54.227.120, client 8.8.8.8
		"fec0::1":                              httpsec.Reserved,
		"100::1":                               httpsec.Reserved,
		"5f00::1":                              httpsec.Reserved,
		"3fff::1":                              httpsec.Documentation,
		"4000::1":                              httpsec.Reserved,
	}
	for s, want := range cases {
		a := netip.MustParseAddr(s)
		assert.Equal(t, want, httpsec.ClassifyAddr(a), s)
		checkAgainstReference(t, a)
	}
	assert.Equal(t, httpsec.Unspecified, httpsec.ClassifyAddr(netip.Addr{}))
	assert.Equal(t, "link-local", httpsec.LinkLocal.String())
	assert.Equal(t, "AddrClass(200)", httpsec.AddrClass(200).String())
}

func TestClassifyAddr_DoesNotAllocate(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:0:4136:e378:8000:63bf:80ff:fffe"), netip.MustParseAddr("fe80::1%eth0")}
	allocs := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			_ = httpsec.ClassifyAddr(a)
		}
	})
	assert.Zero(t, allocs)
}

func FuzzClassifyAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:a00:1::", "2001::", "fe80::", "8.8.8.8", "2606:4700::1", "::", "ff02::1"} {
		a := netip.MustParseAddr(s)
		f.Add(a.AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		checkAgainstReference(t, a)
	})
}

func BenchmarkClassifyAddr(b *testing.B) {
	for _, s := range []string{"8.8.8.8", "2606:4700:4700::1111", "2001:0:4136:e378:8000:63bf:80ff:fffe"} {
		a := netip.MustParseAddr(s)
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = httpsec.ClassifyAddr(a)
			}
		})
	}
}
