package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errInternalAddress is the dial refusal of a webhook destination that
// resolves to an internal address (see internalAddress).
var errInternalAddress = errors.New("internal address")

// internalRanges are the addresses a webhook may not reach unless the
// allowlist names them: what a server-side request forgery aims at.
// Loopback, private (RFC 1918, unique local fc00::/7), link-local
// (169.254/16 holds the cloud metadata endpoint 169.254.169.254,
// fe80::/10), carrier-grade NAT (100.64/10, Alibaba Cloud's metadata
// 100.100.100.200), the unspecified and "this network" addresses, and
// multicast. IPv4-mapped and NAT64 addresses are checked as the IPv4
// address they carry.
func internalRanges() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its addresses carry an
// IPv4 address in their last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// internalAddress reports whether ip is one a webhook may not reach
// unless allow names it.
func internalAddress(ip netip.Addr, allow []netip.Prefix) bool {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, p := range allow {
		if p.Contains(ip) {
			return false
		}
	}
	for _, p := range internalRanges() {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// guardedClient is the HTTP client webhooks are posted with. The check is
// made in the dialer's Control hook, on the address being connected to
// after name resolution, so a host name cannot pass a check and then
// resolve (or be rebound) to another address. It uses no proxy: a proxy
// would make the dialled address the proxy's.
func guardedClient(timeout time.Duration, allow []netip.Prefix) *http.Client {
	d := &net.Dialer{
		Timeout: timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %q is not an address", errInternalAddress, address)
			}
			if internalAddress(ap.Addr(), allow) {
				return fmt.Errorf("%w: %s", errInternalAddress, ap.Addr())
			}
			return nil
		},
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		// A redirect is a new destination: webhooks do not follow them
		// (the receiver's answer is its status).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
