package httpsec_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/bedrock-go/bedrock/httpsec"
)

// A service that fetches URLs its users give it (webhooks, previews)
// refuses those that point inside its own network. The refusal happens
// before any packet is sent.
func ExampleOutbound() {
	outbound, err := httpsec.NewOutbound(httpsec.OutboundConfig{})
	if err != nil {
		panic(err)
	}
	client := outbound.Client()
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:10.0.0.1]/",
		"http://2130706433/",
		"file:///etc/passwd",
	} {
		_, err := client.Get(u)
		var refused *httpsec.OutboundError
		if !errors.As(err, &refused) {
			continue
		}
		if refused.Addr.IsValid() {
			fmt.Println(refused.Err, "|", refused.Addr, "is", refused.Class)
		} else {
			fmt.Println(refused.Err, "|", refused.Detail)
		}
	}
	// Output:
	// httpsec: address not allowed | 169.254.169.254 is link-local
	// httpsec: address not allowed | ::ffff:10.0.0.1 is private
	// httpsec: host is a non-canonical IPv4 address | 127.0.0.1 is loopback
	// httpsec: scheme not allowed | scheme "file" is not http or https
}

// A payment client may call only its provider, here an internal service
// on a private address, which AllowedCIDRs lets through.
func ExampleOutbound_allowList() {
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "charged")
	}))
	defer provider.Close()

	outbound, err := httpsec.NewOutbound(httpsec.OutboundConfig{
		AllowedHosts: []string{"127.0.0.1"},
		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	if err != nil {
		panic(err)
	}
	resp, err := outbound.Client().Post(provider.URL+"/charges", "application/json", nil)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	_, err = outbound.Client().Get("https://attacker.example/")
	fmt.Println(errors.Is(err, httpsec.ErrDestinationNotAllowed))
	// Output:
	// 200 charged
	// true
}

func ExampleClassifyAddr() {
	for _, s := range []string{"8.8.8.8", "100.64.1.1", "fd00::1", "64:ff9b::a9fe:a9fe", "2001:db8::1"} {
		fmt.Println(s, httpsec.ClassifyAddr(netip.MustParseAddr(s)))
	}
	// Output:
	// 8.8.8.8 public
	// 100.64.1.1 shared (carrier-grade NAT)
	// fd00::1 private
	// 64:ff9b::a9fe:a9fe link-local
	// 2001:db8::1 documentation
}
