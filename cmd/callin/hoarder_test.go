package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The soak's other processes (BenchmarkHoardSoak): the hoarder, so that
// its goroutines and allocations are not callin's, and a plain net/http
// server, the control that shows what the machine itself does to a
// request's latency while the hoarder runs. Both are this test binary run
// again with helperEnv set (TestMain); they talk to the benchmark over
// stdin and stdout.

// helperEnv makes the test binary run a soak helper instead of the tests:
// "hoarder" (its plan, JSON, in hoardPlanEnv) or "control".
const (
	helperEnv    = "CALLIN_TEST_SOAK_HELPER"
	hoardPlanEnv = "CALLIN_TEST_HOARD_PLAN"
)

// runHelper runs the helper that helperEnv names, if any, and reports
// whether it did.
func runHelper() bool {
	switch os.Getenv(helperEnv) {
	case "hoarder":
		var plan hoardPlan
		if err := json.Unmarshal([]byte(os.Getenv(hoardPlanEnv)), &plan); err != nil {
			fmt.Fprintln(os.Stderr, "hoarder:", err)
			os.Exit(2)
		}
		plan.run(os.Stdin, os.Stdout)
		return true
	case "control":
		runControl(os.Stdin, os.Stdout)
		return true
	}
	return false
}

// startHelper runs the test binary as the helper kind (with env added),
// on the CPUs cpus names (taskset's list form; "": any), and returns its
// stdin and a reader of its stdout; the process ends when its stdin
// closes, and is killed with the test.
func startHelper(t testing.TB, cpus, kind string, env ...string) (io.WriteCloser, *bufio.Reader, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	if cpus != "" {
		// Pinned from its first instruction: every thread it makes
		// inherits the mask.
		cmd = exec.Command("taskset", "-c", cpus, os.Args[0])
	}
	cmd.Env = append(append(os.Environ(), helperEnv+"="+kind), env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return in, bufio.NewReader(out), cmd
}

// runControl serves a small page on a loopback port, each request costing
// about a console page's CPU, writes its address on out, and ends when in
// closes.
func runControl(in io.Reader, out io.Writer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "control:", err)
		os.Exit(2)
	}
	page := strings.Repeat("<p>the control's answer</p>\n", 100)
	work := make([]byte, 1<<20)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// About the CPU of a console page (0.6-1 ms here), so that the
		// control is preempted as often as callin on a busy machine.
		sum := sha256.Sum256(work)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("ETag", hex.EncodeToString(sum[:8]))
		io.WriteString(w, page)
	}))
	fmt.Fprintln(out, ln.Addr())
	io.Copy(io.Discard, in)
}

// hoardPlan is what the hoarder does, from one address (From), to the
// service at Addr: Conns goroutines open connections, together one every
// ConnEvery (0: as fast as they can), each sending GET /login (every
// fourth GET /healthz) and keeping the connection alive; and one
// goroutine logs User in Logins times, one every LoginEvery, opening
// PerSession console streams per session (Show's). It goes on until told
// to stop.
type hoardPlan struct {
	Addr, From           string
	Conns                int
	ConnEvery            time.Duration
	Logins, PerSession   int
	LoginEvery           time.Duration
	User, Password, Show string

	pinned bool // the soak's, not the hoarder's: see soakServerCPU
}

// hoardResult is what the hoarder got.
type hoardResult struct {
	Attempts, Served, Probes, Refused503, Refused429, Failed, HeldAtEnd int
	LoginsOK, Logins429, LoginsReset, StreamsOK, Streams429, Other      int
	Others                                                              []string
}

// hoarder is a hoardPlan under way: what it got and holds.
type hoarder struct {
	hoardPlan
	stop chan struct{}

	mu      sync.Mutex
	res     hoardResult
	held    []net.Conn
	streams []io.Closer
}

// run carries out p until a line (or the end) on in; then it writes its
// result (JSON) on out, keeps what it holds until in closes, and lets go.
func (p hoardPlan) run(in io.Reader, out io.Writer) {
	h := &hoarder{hoardPlan: p, stop: make(chan struct{})}
	var wg sync.WaitGroup
	pace := pacer(p.ConnEvery, h.stop)
	var tries atomic.Int64
	for range p.Conns {
		wg.Go(func() {
			for pace() && !h.stopped() {
				c, kind := p.hoardOne(tries.Add(1))
				h.count(c, kind)
			}
		})
	}
	wg.Go(h.logins)
	r := bufio.NewReader(in)
	_, _ = r.ReadString('\n')
	close(h.stop)
	wg.Wait()
	for _, c := range h.held {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			h.res.HeldAtEnd++
		}
	}
	_ = json.NewEncoder(out).Encode(h.res)
	_, _ = io.Copy(io.Discard, r)
	for _, c := range h.held {
		c.Close()
	}
	for _, s := range h.streams {
		s.Close()
	}
}

func (h *hoarder) stopped() bool {
	select {
	case <-h.stop:
		return true
	default:
		return false
	}
}

// count counts a connection attempt that ended as kind (hoardOne's).
func (h *hoarder) count(c net.Conn, kind string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.res.Attempts++
	switch kind {
	case "served":
		h.res.Served++
		h.held = append(h.held, c)
	case "probe":
		h.res.Probes++
	case "503":
		h.res.Refused503++
	case "429":
		h.res.Refused429++
	default:
		h.res.Failed++
	}
}

// logins logs the user in, Logins times at most, opening streams.
func (h *hoarder) logins() {
	login := pacer(h.LoginEvery, h.stop)
	for i := 0; i < h.Logins && login() && !h.stopped(); i++ {
		got, err := h.loginAndStream()
		h.mu.Lock()
		h.streams = append(h.streams, got.bodies...)
		h.res.StreamsOK += len(got.bodies)
		h.res.Streams429 += got.refused
		switch {
		case err != nil && !errors.As(err, new(unexpectedStatus)):
			// A connection callin closed: unanswered (opened too
			// fast), or kept alive and ended to make room.
			h.res.LoginsReset++
		case err != nil:
			h.res.Other++
			if len(h.res.Others) < 5 {
				h.res.Others = append(h.res.Others, err.Error())
			}
		case got.login == http.StatusTooManyRequests:
			h.res.Logins429++
		default:
			h.res.LoginsOK++
		}
		h.mu.Unlock()
	}
}

// pacer returns a function that waits for the next turn, one every every
// (0: no wait), and reports false once stop closes.
func pacer(every time.Duration, stop <-chan struct{}) func() bool {
	if every <= 0 {
		return func() bool { return true }
	}
	tick := time.NewTicker(every)
	return func() bool {
		select {
		case <-tick.C:
			return true
		case <-stop:
			return false
		}
	}
}

// hoardOne opens the nth connection and sends its request; it returns the
// connection when callin kept it open after a 200 ("served"), else how it
// ended: "probe" (a probe's answer closed it), "503", "429" or "failed".
func (p hoardPlan) hoardOne(n int64) (net.Conn, string) {
	c, err := dialFrom(p.From, p.Addr)
	if err != nil {
		return nil, "failed"
	}
	path := "/login"
	if n%4 == 0 {
		path = "/healthz"
	}
	res, err := keepAlive(c, bufio.NewReader(c), p.Addr, path, 5*time.Second)
	switch {
	case err != nil:
		c.Close()
		return nil, "failed"
	case res.StatusCode == http.StatusServiceUnavailable, res.StatusCode == http.StatusTooManyRequests:
		c.Close()
		return nil, fmt.Sprint(res.StatusCode)
	case res.Close:
		c.Close()
		return nil, "probe"
	}
	return c, "served"
}

// unexpectedStatus is an answer the hoarder did not expect (not 200, 429
// or a connection closed).
type unexpectedStatus string

func (e unexpectedStatus) Error() string { return string(e) }

// hoardSession is what one login of the hoarder got: the login's status,
// the bodies of the streams it holds open and the streams refused 429.
type hoardSession struct {
	login   int
	bodies  []io.Closer
	refused int
}

// loginAndStream logs p.User in once and opens p.PerSession console
// streams in the new session, reading each in the background.
func (p hoardPlan) loginAndStream() (hoardSession, error) {
	var got hoardSession
	jar, _ := cookiejar.New(nil)
	c := clientFrom(p.From, jar)
	c.Timeout = 0 // streams; requests are bounded by the dial and the server
	base := "http://" + p.Addr
	form := url.Values{"username": {p.User}, "password": {p.Password}}
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil {
		return got, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	got.login = res.StatusCode
	if res.StatusCode == http.StatusTooManyRequests {
		return got, nil
	}
	if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		return got, unexpectedStatus(fmt.Sprintf("login: %d at %s", res.StatusCode, res.Request.URL.Path))
	}
	for range p.PerSession {
		res, err := c.Get(base + "/shows/" + p.Show + "/live")
		if err != nil {
			return got, err
		}
		switch res.StatusCode {
		case http.StatusOK:
			got.bodies = append(got.bodies, res.Body)
			go io.Copy(io.Discard, res.Body)
		case http.StatusTooManyRequests:
			got.refused++
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		default:
			res.Body.Close()
			return got, unexpectedStatus(fmt.Sprintf("stream: %d", res.StatusCode))
		}
	}
	return got, nil
}
