package core

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestFloodDrainedAtAccept (issue 21 point 1): connections from one
// address waiting in the listen queue beyond its rate are taken by
// accept4 on the socket (drain): the burst served, the next
// answeredRefusals answered 429 with Retry-After, the rest closed
// unanswered; another address's connection waiting behind them is served.
func TestFloodDrainedAtAccept(t *testing.T) {
	const burst, flood = 3, 60
	l := Limits{ConnRatePerAddress: 0.01, ConnBurstPerAddress: burst}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := l.Listener(ln)
	if ll.(*limitListener).raw == nil {
		t.Fatal("a TCP listener without its raw socket")
	}
	dial := func(ip string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		return c
	}
	// All wait in the listen queue before the server accepts any.
	var conns []net.Conn
	for range flood {
		conns = append(conns, dial("127.0.0.2"))
	}
	other := dial("127.0.0.1")
	srv := l.HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	go srv.Serve(ll)
	defer srv.Close()
	got := map[string]int{}
	for _, c := range conns {
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		switch {
		case err != nil:
			got["unanswered"]++
		case res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "":
			got["429"]++
		default:
			got[fmt.Sprint(res.StatusCode)]++
		}
	}
	want := map[string]int{"200": burst, "429": answeredRefusals, "unanswered": flood - burst - answeredRefusals}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the flood got %v, want %v", got, want)
	}
	if res, err := http.ReadResponse(bufio.NewReader(other), nil); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("another address behind the flood: %v %v, want 200", res, err)
	}
}
