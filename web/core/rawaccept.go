package core

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"time"
)

// A flood of new connections from one address (issue 21's soak: ~12,000 a
// second) is refused at accept. Through net.Listener.Accept each refusal
// cost about 25 µs of callin's CPU: accept4, getsockname, the poller's
// registration and deregistration, a net.Conn with a finalizer, close.
// When the listener is a TCP socket, limitListener takes what waits in its
// queue with accept4 on the socket itself (drain) before it waits in
// Accept: a connection the rate refuses unanswered (connRateError quiet)
// is closed as accept4 returned it, with nothing else, and only the others
// become net.Conns (BENCHMARKS.md has what it saved).

// rawSocket is ln's socket when ln is a TCP listener, else nil.
func rawSocket(ln net.Listener) syscall.RawConn {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil
	}
	raw, err := tl.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// rateCheck is nil when a new connection from key may be admitted, else a
// *connRateError: the address opens connections faster than its rate
// (trusted proxies are not capped).
func (p *connPool) rateCheck(key netip.Addr) error {
	if p.rate == nil || !p.capped(key) {
		return nil
	}
	if retry, refused, ok := p.rate.Allow(key, time.Now()); !ok {
		return &connRateError{retry: retry, quiet: refused > answeredRefusals}
	}
	return nil
}

// next accepts the next connection whose address is not past its answered
// refusals (those are closed unanswered here) and returns it, its key and
// rateCheck's verdict. On a TCP socket it first takes what is waiting
// with accept4 itself (drain); when nothing is, the listener's Accept
// waits for the next.
func (l *limitListener) next() (net.Conn, netip.Addr, error, error) {
	for {
		if l.raw != nil {
			c, key, refused, more, err := l.drain()
			if c != nil || err != nil {
				return c, key, refused, err
			}
			if more {
				// A batch closed: the other goroutines get the CPU
				// before the next (one P may be all callin has).
				runtime.Gosched()
				continue
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, netip.Addr{}, nil, err
		}
		key := addrKey(c.RemoteAddr())
		refused := l.pool.rateCheck(key)
		if quiet(refused) {
			reset(c)
			continue
		}
		return c, key, refused, nil
	}
}

// quiet reports whether err is a refusal to close unanswered.
func quiet(err error) bool {
	e, ok := err.(*connRateError)
	return ok && e.quiet
}

// drainBatch is the most quiet refusals drain closes in one go.
const drainBatch = 32

// drain accepts with accept4 on the raw socket (non-blocking) until a
// connection to keep, closing the quiet refusals as they come; it returns
// no connection and no error when none is waiting, and more when it
// stopped after drainBatch closes.
func (l *limitListener) drain() (c net.Conn, key netip.Addr, refused error, more bool, err error) {
	fd := -1
	var fault error
	err = l.raw.Control(func(s uintptr) {
		for closed := 0; ; closed++ {
			if closed == drainBatch {
				more = true
				return
			}
			n, sa, err := syscall.Accept4(int(s), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			switch err {
			case nil:
			case syscall.EAGAIN:
				return
			case syscall.EINTR, syscall.ECONNABORTED:
				continue
			default:
				fault = &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", err)}
				return
			}
			key = sockaddrKey(sa)
			if refused = l.pool.rateCheck(key); quiet(refused) {
				_ = syscall.Close(n)
				continue
			}
			fd = n
			return
		}
	})
	if err == nil {
		err = fault
	}
	if err != nil || fd < 0 {
		return nil, netip.Addr{}, nil, more, err
	}
	// FileConn dups the socket into a net.Conn (registered with the
	// poller); the original is closed.
	f := os.NewFile(uintptr(fd), "")
	c, err = net.FileConn(f)
	_ = f.Close()
	if err != nil {
		return nil, netip.Addr{}, nil, false, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: err}
	}
	return c, key, refused, false, nil
}

// sockaddrKey is addrKey of an address accept4 returned.
func sockaddrKey(sa syscall.Sockaddr) netip.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrFrom4(a.Addr)
	case *syscall.SockaddrInet6:
		ip := netip.AddrFrom16(a.Addr).Unmap()
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			return p.Addr()
		}
		return ip
	}
	return netip.Addr{}
}
