package pbxtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// KamailioPackages are the Debian packages the SIP front needs (Debian 12's
// kamailio is 5.6.3, the version deploy/kamailio/kamailio.cfg is written
// and tested for).
const KamailioPackages = "kamailio"

// FrontConfig says how NewFront starts the front. The zero value is the
// tests' usual front.
type FrontConfig struct {
	// Probe is how often the front sends each node an OPTIONS probe
	// (whole seconds, default 1 s; the shipped configuration says 5 s).
	Probe time.Duration
	// NodeTimeout is how long a node may send nothing back to an INVITE
	// before the front takes it for dead and tries the next node
	// (default 2 s, as shipped).
	NodeTimeout time.Duration
}

// Front is a running Kamailio with callin's front configuration
// (deploy/kamailio/kamailio.cfg, read as shipped, its values given on the
// command line) spreading calls over Nodes with the dispatcher module.
type Front struct {
	// SIPPort is where callers send their INVITEs to go through the front
	// (UDP on 127.0.0.1); Front.Callers dials it.
	SIPPort int
	// Dir holds the front's configuration (kamailio.cfg, dispatcher.list)
	// and its runtime files.
	Dir string
	// Nodes are the front's destinations, in dispatcher.list's order.
	Nodes []*PBX

	cmd      *exec.Cmd
	done     chan struct{}
	watchdog *exec.Cmd
	wpipe    *os.File

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on each new log line
}

// FindKamailio returns the kamailio binary, or an error saying how to
// install it.
func FindKamailio() (string, error) {
	if p, err := exec.LookPath("kamailio"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/kamailio"); err == nil {
		return "/usr/sbin/kamailio", nil // not on a normal user's PATH
	}
	return "", errors.New("pbxtest: kamailio is not installed")
}

// RequireKamailio skips t (or fails it under CI) when kamailio is not
// installed.
func RequireKamailio(t testing.TB) {
	t.Helper()
	if _, err := FindKamailio(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: CI requires it (apt-get install %s)", err, KamailioPackages)
		}
		t.Skipf("%v (apt-get install %s, then run again)", err, KamailioPackages)
	}
}

// NewFront starts a Kamailio front for nodes (a NewCluster's, or any
// PBXes) on a free loopback port and stops it at t's cleanup. It runs as
// the current user (kamailio 5.6 also runs as root without -u), in the
// foreground (-DD, logging to stderr, which Front keeps: LogLines,
// WaitLog), in a process group of its own that Stop, or a watchdog if
// the test process dies, ends. Without kamailio t is skipped (failed
// under CI). cfg is optional.
func NewFront(t testing.TB, nodes []*PBX, cfg ...FrontConfig) *Front {
	t.Helper()
	RequireKamailio(t)
	var c FrontConfig
	if len(cfg) > 0 {
		c = cfg[0]
	}
	f, err := StartFront(nodes, c)
	if err != nil {
		t.Fatalf("pbxtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pbxtest: the front on port %d failed the test; its config is in %s; last lines of its log:\n%s",
				f.SIPPort, f.Dir, f.LogTail(40))
		}
		f.Stop()
		if !t.Failed() {
			os.RemoveAll(f.Dir)
		}
	})
	return f
}

// StartFront starts a front as NewFront does, for a caller that stops it
// itself (Stop).
func StartFront(nodes []*PBX, cfg FrontConfig) (_ *Front, err error) {
	bin, err := FindKamailio()
	if err != nil {
		return nil, err
	}
	if cfg.Probe <= 0 {
		cfg.Probe = time.Second
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = 2 * time.Second
	}
	f := &Front{Nodes: nodes, done: make(chan struct{}), changed: make(chan struct{})}
	if f.Dir, err = os.MkdirTemp("", "front"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(f.Dir)
		}
	}()
	if f.SIPPort, err = freeUDPBlock(1, 1); err != nil {
		return nil, err
	}
	if err := f.writeConfig(); err != nil {
		return nil, err
	}
	args := []string{"-f", filepath.Join(f.Dir, "kamailio.cfg"), "-DD", "-E", "-m", "32", "-M", "4",
		"-Y", f.Dir, "-w", f.Dir, "-P", filepath.Join(f.Dir, "kamailio.pid"),
		"-A", fmt.Sprintf("CALLIN_LISTEN=udp:127.0.0.1:%d", f.SIPPort),
		"-A", fmt.Sprintf("CALLIN_NODES=%q", filepath.Join(f.Dir, "dispatcher.list")),
		"-A", fmt.Sprintf("CALLIN_PROBE=%d", max(1, int(cfg.Probe.Round(time.Second)/time.Second))),
		"-A", fmt.Sprintf("CALLIN_NODE_TIMEOUT=%d", cfg.NodeTimeout.Milliseconds()),
		"-A", "CALLIN_CHILDREN=2"}
	if err := f.start(bin, args); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := f.ready(ctx); err != nil {
		f.Stop()
		return nil, fmt.Errorf("front: %w; its log:\n%s", err, f.LogTail(20))
	}
	return f, nil
}

// writeConfig copies the shipped configuration into Dir and writes the
// nodes as dispatcher set 1: probed from the start (flags 8), each
// counted for the call load under its own duid.
func (f *Front) writeConfig() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	shipped, err := os.ReadFile(filepath.Join(root, "deploy", "kamailio", "kamailio.cfg"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.Dir, "kamailio.cfg"), shipped, 0o644); err != nil {
		return err
	}
	var list strings.Builder
	for i, p := range f.Nodes {
		fmt.Fprintf(&list, "1 sip:127.0.0.1:%d 8 0 duid=node%d\n", p.SIPPort, i)
	}
	return os.WriteFile(filepath.Join(f.Dir, "dispatcher.list"), []byte(list.String()), 0o644)
}

// start runs kamailio in a process group of its own, reading its log, and
// the watchdog that ends that group if this process dies.
func (f *Front) start(bin string, args []string) error {
	f.cmd = exec.Command(bin, args...)
	f.cmd.Dir = f.Dir
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers with it
	stderr, err := f.cmd.StderrPipe()
	if err != nil {
		return err
	}
	f.cmd.Stdout = io.Discard
	if err := f.cmd.Start(); err != nil {
		return fmt.Errorf("front: %s: %w", bin, err)
	}
	go f.readLog(stderr)
	r, w, err := os.Pipe()
	if err != nil {
		f.Stop()
		return err
	}
	pg := strconv.Itoa(f.cmd.Process.Pid)
	f.watchdog = exec.Command("/bin/sh", "-c", `cat > /dev/null; kill -TERM -"$0"; sleep 2; kill -KILL -"$0"`, pg)
	f.watchdog.Stdin = r
	f.watchdog.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := f.watchdog.Start(); err != nil {
		r.Close()
		w.Close()
		f.Stop()
		return err
	}
	r.Close()
	f.wpipe = w // held open, never written, until Stop
	go f.watchdog.Wait()
	return nil
}

// readLog keeps kamailio's log lines (the last 20,000) and wakes WaitLog.
func (f *Front) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f.mu.Lock()
		if len(f.lines) >= 20000 {
			f.lines = f.lines[10000:]
		}
		f.lines = append(f.lines, sc.Text())
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
	}
	_ = f.cmd.Wait()
	close(f.done)
}

// ready sends OPTIONS to the front itself until it answers 200 (the
// configuration answers its own keepalives).
func (f *Front) ready(ctx context.Context) error {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: f.SIPPort}
	local := c.LocalAddr().(*net.UDPAddr).Port
	buf := make([]byte, 4096)
	for i := 1; ; i++ {
		msg := fmt.Sprintf("OPTIONS sip:127.0.0.1:%[1]d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%[2]d;branch=z9hG4bK-ready%[3]d\r\n"+
			"From: <sip:pbxtest@127.0.0.1>;tag=ready\r\nTo: <sip:127.0.0.1:%[1]d>\r\nCall-ID: ready-%[2]d\r\nCSeq: %[3]d OPTIONS\r\n"+
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", f.SIPPort, local, i)
		if _, err := c.WriteTo([]byte(msg), to); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := c.ReadFrom(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			return nil
		}
		select {
		case <-f.done:
			return errors.New("kamailio exited")
		case <-ctx.Done():
			return fmt.Errorf("no answer to OPTIONS on port %d: %w", f.SIPPort, ctx.Err())
		default:
		}
	}
}

// Stop ends kamailio: SIGTERM to its main process, which stops its workers;
// SIGKILL to its process group if it is not gone within 5 s. Stopping a
// stopped front does nothing.
func (f *Front) Stop() {
	if f.watchdog != nil && f.watchdog.Process != nil {
		syscall.Kill(-f.watchdog.Process.Pid, syscall.SIGKILL) // before its pipe closes
	}
	if f.wpipe != nil {
		f.wpipe.Close()
	}
	if f.cmd == nil || f.cmd.Process == nil {
		return
	}
	select {
	case <-f.done:
		return
	default:
	}
	pid := f.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-f.done
	}
}

// Callers starts sipp callers as PBX.Callers does, dialling the front
// instead of a node: they follow the front's Record-Route, so every
// request of the call crosses the front.
func (f *Front) Callers(t testing.TB, cfg CallerConfig) *SIPp {
	t.Helper()
	cfg.Port = f.SIPPort
	return f.Nodes[0].Callers(t, cfg)
}

// LogLines returns the front's log lines that contain s (its own lines
// start "callin-front:").
func (f *Front) LogLines(s string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// LogTail returns the front's last n log lines.
func (f *Front) LogTail(n int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.lines[max(0, len(f.lines)-n):], "\n")
}

// WaitLog waits until the front's log holds a line containing s (one
// logged before the call counts) and returns it.
func (f *Front) WaitLog(ctx context.Context, s string) (string, error) {
	for {
		f.mu.Lock()
		changed := f.changed
		for _, l := range f.lines {
			if strings.Contains(l, s) {
				f.mu.Unlock()
				return l, nil
			}
		}
		f.mu.Unlock()
		select {
		case <-changed:
		case <-f.done:
			return "", fmt.Errorf("front: kamailio exited before logging %q", s)
		case <-ctx.Done():
			return "", fmt.Errorf("front: no log line with %q: %w", s, ctx.Err())
		}
	}
}

// NodeURI is how the front names node p in its log and dispatcher list.
func (f *Front) NodeURI(p *PBX) string { return fmt.Sprintf("sip:127.0.0.1:%d", p.SIPPort) }

// SetupTimes are the set-up times of the calls these callers (started
// with CallerConfig.Times) have made so far: from sending a call's first
// INVITE to receiving its first 200 OK, as sipp's message log stamps
// them (microseconds), in the order the calls started.
func (s *SIPp) SetupTimes() ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*_messages.log"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("pbxtest: no message log in %s (CallerConfig.Times)", s.dir)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return nil, err
	}
	const sep = "----------------------------------------------- "
	invited := map[string]time.Time{}
	var order []string
	answered := map[string]time.Duration{}
	for _, block := range strings.Split(string(b), sep)[1:] {
		stamp, msg, _ := strings.Cut(block, "\n")
		at, err := time.Parse("2006-01-02 15:04:05.000000", strings.TrimSpace(stamp))
		if err != nil {
			return nil, fmt.Errorf("pbxtest: %s: time %q: %w", files[0], stamp, err)
		}
		_, msg, _ = strings.Cut(msg, "\n\n") // after "UDP message sent (…):"
		callID := header(msg, "Call-ID")
		switch {
		case strings.HasPrefix(msg, "INVITE "):
			if _, ok := invited[callID]; !ok {
				invited[callID] = at
				order = append(order, callID)
			}
		case strings.HasPrefix(msg, "SIP/2.0 200") && strings.HasSuffix(header(msg, "CSeq"), "INVITE"):
			if _, ok := answered[callID]; !ok {
				answered[callID] = at.Sub(invited[callID])
			}
		}
	}
	var out []time.Duration
	for _, id := range order {
		if d, ok := answered[id]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// header is the value of a SIP message's header name ("" if none).
func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
		if strings.TrimSpace(line) == "" {
			break
		}
	}
	return ""
}
