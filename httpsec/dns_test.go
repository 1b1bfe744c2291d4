package httpsec_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// testDNS is a minimal DNS server on loopback UDP, written from RFC 1035
// with the standard library, so that tests decide what a name resolves to
// without touching the machine's resolver. It answers A and AAAA queries
// from a function of the name and the number of times that name was asked
// for its A record; anything else gets an empty answer, and a name the
// function does not know gets NXDOMAIN.
type testDNS struct {
	conn    net.PacketConn
	answer  func(name string, lookup int) []netip.Addr
	mu      sync.Mutex
	lookups map[string]int
}

func newTestDNS(t *testing.T, answer func(name string, lookup int) []netip.Addr) *testDNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &testDNS{conn: conn, answer: answer, lookups: map[string]int{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.serve()
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-done
	})
	return d
}

// fixed answers each name in m with the same addresses every time.
func fixed(m map[string][]string) func(string, int) []netip.Addr {
	return func(name string, _ int) []netip.Addr {
		var out []netip.Addr
		for _, s := range m[name] {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
}

// Resolver returns a resolver that asks only this server.
func (d *testDNS) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", d.conn.LocalAddr().String())
	}}
}

// Lookups returns how often name was asked for its A record.
func (d *testDNS) Lookups(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lookups[name]
}

func (d *testDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply := d.reply(buf[:n]); reply != nil {
			_, _ = d.conn.WriteTo(reply, from)
		}
	}
}

const (
	dnsTypeA    = 1
	dnsTypeAAAA = 28
)

// reply builds the answer to one query: the header with QR set, the
// question as received, and one record per address of the asked family,
// each naming the question by a compression pointer to offset 12.
func (d *testDNS) reply(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	name, end, ok := readName(q, 12)
	if !ok || end+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[end : end+2])
	var addrs []netip.Addr
	known := true
	if qtype == dnsTypeA || qtype == dnsTypeAAAA {
		lookup := 0
		if qtype == dnsTypeA {
			d.mu.Lock()
			d.lookups[name]++
			lookup = d.lookups[name]
			d.mu.Unlock()
		}
		all := d.answer(name, lookup)
		known = all != nil
		for _, a := range all {
			if a.Is4() == (qtype == dnsTypeA) {
				addrs = append(addrs, a)
			}
		}
	}
	out := make([]byte, 0, 512)
	out = append(out, q[0], q[1])                                             // ID
	flags := uint16(0x8000 | 0x0080 | binary.BigEndian.Uint16(q[2:4])&0x0100) // QR, RA, RD as asked
	if !known {
		flags |= 3 // NXDOMAIN
	}
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(addrs)))
	out = binary.BigEndian.AppendUint16(out, 0)
	out = binary.BigEndian.AppendUint16(out, 0)
	out = append(out, q[12:end+4]...)
	for _, a := range addrs {
		out = append(out, 0xc0, 12)
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = binary.BigEndian.AppendUint16(out, 1) // IN
		out = binary.BigEndian.AppendUint32(out, 0) // TTL: never cache
		b := a.AsSlice()
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// readName reads an uncompressed name (queries never compress) as a
// lowercase dotted string with a final dot.
func readName(m []byte, off int) (string, int, bool) {
	var b strings.Builder
	for off < len(m) {
		l := int(m[off])
		off++
		if l == 0 {
			if b.Len() == 0 {
				b.WriteByte('.')
			}
			return strings.ToLower(b.String()), off, true
		}
		if l > 63 || off+l > len(m) {
			return "", 0, false
		}
		b.Write(m[off : off+l])
		b.WriteByte('.')
		off += l
	}
	return "", 0, false
}

func TestTestDNS_AnswersWhatItIsTold(t *testing.T) {
	dns := newTestDNS(t, fixed(map[string][]string{"api.test.": {"127.0.0.1", "::1"}}))
	got, err := dns.Resolver().LookupNetIP(context.Background(), "ip", "api.test.")
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr]bool{netip.MustParseAddr("127.0.0.1"): true, netip.MustParseAddr("::1"): true}
	if len(got) != 2 || !want[got[0].Unmap()] || !want[got[1].Unmap()] {
		t.Fatalf("got %v, want 127.0.0.1 and ::1", got)
	}
	if _, err := dns.Resolver().LookupNetIP(context.Background(), "ip", "unknown.test."); err == nil {
		t.Fatal("an unknown name resolved")
	}
	if n := dns.Lookups("api.test."); n != 1 {
		t.Fatalf("lookups = %d, want 1", n)
	}
}
