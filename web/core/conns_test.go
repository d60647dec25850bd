package core

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestProbesBounded (issue 21 point 1): at most MaxProbes probe requests
// run at once, the others are answered 503 at once, and every probe
// answer closes its connection.
func TestProbesBounded(t *testing.T) {
	l := Limits{MaxProbes: 2}
	entered, release := make(chan struct{}, 2), make(chan struct{})
	probe := l.Probes()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	ts := httptest.NewServer(probe)
	defer ts.Close()
	done := make(chan *http.Response, 2)
	for range 2 {
		go func() {
			res, err := http.Get(ts.URL)
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
	}
	for range 2 {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the probes did not start")
		}
	}
	res, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !res.Close {
		t.Errorf("a third probe at once: %d (close %v), want 503 closing", res.StatusCode, res.Close)
	}
	close(release)
	for range 2 {
		if res := <-done; res != nil && (res.StatusCode != http.StatusOK || !res.Close) {
			t.Errorf("a probe: %d (close %v), want 200 closing", res.StatusCode, res.Close)
		}
	}
}

// TestFullPoolEndsIdleFirst (issue 21 point 1): with MaxConns open, a new
// connection from another address ends an idle keep-alive connection (the
// longest idle), whichever address holds it, and is served at once.
func TestFullPoolEndsIdleFirst(t *testing.T) {
	l := Limits{MaxConns: 4, MaxConnsPerAddress: 4, IdleTimeout: time.Minute}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := l.HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	go srv.Serve(l.Listener(ln))
	defer srv.Close()
	get := func(c net.Conn, r *bufio.Reader) error {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		return res.Body.Close()
	}
	dial := func(ip string) (net.Conn, *bufio.Reader) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	var conns []net.Conn
	var readers []*bufio.Reader
	for i := range 4 {
		c, r := dial("127.0.0.2")
		if err := get(c, r); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns, readers = append(conns, c), append(readers, r)
	}
	c, r := dial("127.0.0.1")
	if err := get(c, r); err != nil {
		t.Fatalf("a new connection with the pool full of idle ones: %v", err)
	}
	// One of the 4 (the one the server marked idle first: it does so a
	// moment after the answer went out) was ended, the others are kept.
	ended := 0
	for i := range conns {
		if err := get(conns[i], readers[i]); err != nil {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("%d of the 4 idle connections ended to make room, want 1", ended)
	}
}
