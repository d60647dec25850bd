// Package clientaddr says which address a request came from: the
// connection's, or, when the connection is from a trusted proxy, the
// address that proxy reports in its forwarding header. Rate limits and
// lockouts key on it; nothing else should parse X-Forwarded-For.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Forwarding headers a proxy may report the client in.
const (
	XForwardedFor = "X-Forwarded-For" // nginx, HAProxy, Caddy, Traefik: "client, proxy1, proxy2"
	Forwarded     = "Forwarded"       // RFC 7239: for=client;proto=https, for=proxy1
)

// Proxies are the addresses whose forwarding header is believed. The zero
// value and nil trust nobody: Addr is the connection's address.
type Proxies struct {
	nets   []netip.Prefix
	header string
}

// New returns Proxies trusting the addresses and networks in list
// ("10.0.0.5", "10.0.0.0/8", "::1") to report clients in header
// (XForwardedFor or Forwarded; "" is XForwardedFor). Only one header is
// read: a proxy that sets one passes the other through as the client
// sent it, forged or not.
func New(list []string, header string) (*Proxies, error) {
	p := &Proxies{header: http.CanonicalHeaderKey(header)}
	switch p.header {
	case "":
		p.header = XForwardedFor
	case XForwardedFor, Forwarded:
	default:
		return nil, fmt.Errorf("clientaddr: header %q: want %s or %s", header, XForwardedFor, Forwarded)
	}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("clientaddr: trusted proxy %q: want an IP address or a network like 10.0.0.0/8", s)
			}
			pre = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		p.nets = append(p.nets, pre.Masked())
	}
	return p, nil
}

// Networks are the trusted proxies' addresses and networks (nil for nil):
// for the connection caps, which exempt them (web.Limits.TrustedProxies).
func (p *Proxies) Networks() []netip.Prefix {
	if p == nil {
		return nil
	}
	return append([]netip.Prefix(nil), p.nets...)
}

// trusted reports whether a is a trusted proxy.
func (p *Proxies) trusted(a netip.Addr) bool {
	if p == nil {
		return false
	}
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Addr returns r's client address. From a trusted proxy, it is the
// rightmost address of the forwarding header that is not itself a trusted
// proxy (each proxy appends the address it was reached from, so what is
// left of that is the client's to forge); all trusted: the leftmost. An
// entry that is no address (unknown, a hidden identifier, garbage) ends
// the walk at the hop that reported it.
func (p *Proxies) Addr(r *http.Request) netip.Addr {
	remote := remoteAddr(r.RemoteAddr)
	if !remote.IsValid() || !p.trusted(remote) {
		return remote
	}
	hops := p.hops(r.Header.Values(p.header))
	client := remote
	for i := len(hops) - 1; i >= 0; i-- {
		a := hops[i]
		if !a.IsValid() {
			return client
		}
		client = a
		if !p.trusted(a) {
			return a
		}
	}
	return client
}

// String returns Addr as text, "" when the connection's address is not
// an IP address (a test's pipe).
func (p *Proxies) String(r *http.Request) string {
	if a := p.Addr(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// hops parses the forwarding header's values into addresses, left to
// right; an entry that is not an address is the zero Addr.
func (p *Proxies) hops(values []string) []netip.Addr {
	var out []netip.Addr
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if p.header == Forwarded {
				e = forwardedFor(e)
			}
			out = append(out, parseHop(e))
		}
	}
	return out
}

// forwardedFor returns the for= parameter of one Forwarded element.
func forwardedFor(elem string) string {
	for _, kv := range strings.Split(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && strings.EqualFold(k, "for") {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// parseHop parses "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711"
// or "2001:db8::1".
func parseHop(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// remoteAddr parses a RemoteAddr ("host:port").
func remoteAddr(s string) netip.Addr {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
