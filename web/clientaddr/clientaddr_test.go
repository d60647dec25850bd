package clientaddr

import (
	"net/http"
	"testing"
)

func TestAddr(t *testing.T) {
	xff, err := New([]string{"10.0.0.0/8", "::1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := New([]string{"10.0.0.1"}, "forwarded")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		p       *Proxies
		remote  string
		headers map[string][]string
		want    string
	}{
		{"NoProxies", nil, "192.0.2.1:5", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "192.0.2.1"},
		{"UntrustedPeer", xff, "192.0.2.1:5", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "192.0.2.1"},
		{"TrustedPeer", xff, "10.0.0.1:5", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"ForgedLeft", xff, "10.0.0.1:5", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1"}}, "198.51.100.1"},
		{"ProxyChain", xff, "10.0.0.1:5", map[string][]string{"X-Forwarded-For": {"198.51.100.1, 10.0.0.7"}}, "198.51.100.1"},
		{"SeveralLines", xff, "10.0.0.1:5", map[string][]string{"X-Forwarded-For": {"1.2.3.4", "198.51.100.1"}}, "198.51.100.1"},
		{"AllTrusted", xff, "10.0.0.1:5", map[string][]string{"X-Forwarded-For": {"10.0.0.9, 10.0.0.7"}}, "10.0.0.9"},
		{"Garbage", xff, "10.0.0.1:5", map[string][]string{"X-Forwarded-For": {"198.51.100.1, nonsense"}}, "10.0.0.1"},
		{"NoHeader", xff, "10.0.0.1:5", nil, "10.0.0.1"},
		{"IPv6Peer", xff, "[::1]:5", map[string][]string{"X-Forwarded-For": {"2001:db8::1"}}, "2001:db8::1"},
		{"OtherHeaderIgnored", xff, "10.0.0.1:5", map[string][]string{"Forwarded": {"for=198.51.100.1"}}, "10.0.0.1"},
		{"Forwarded", fwd, "10.0.0.1:5", map[string][]string{"Forwarded": {`for=1.2.3.4, for="[2001:db8::2]:4711";proto=https`}}, "2001:db8::2"},
		{"ForwardedIgnoresXFF", fwd, "10.0.0.1:5", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "10.0.0.1"},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header(tc.headers)}
		if got := tc.p.String(r); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := New([]string{"not-an-address"}, ""); err == nil {
		t.Error("a bad proxy accepted")
	}
	if _, err := New(nil, "X-Real-IP"); err == nil {
		t.Error("another header accepted")
	}
}
