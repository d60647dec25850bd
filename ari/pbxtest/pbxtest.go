// Package pbxtest runs a real Asterisk for tests and benchmarks, the way
// postgres/pgcluster runs PostgreSQL: Start brings up an Asterisk 22.10.1
// from the folder of shared/asterisk (its asterisk-run script and prebuilt
// tree) on free loopback ports, in a folder of its own, with callin's
// dialplan and prompts installed, and gives the ARI URL. Callers and Phone
// run sipp (Debian's sip-tester) as numbered SIP callers and as phones that
// answer, are busy, never answer or are unavailable.
//
// Everything started here is stopped by the test's cleanup, by pid, also when
// the test fails or panics; if the test binary itself dies, a watchdog
// process (reading a pipe only this process holds) stops the Asterisk, and
// sipp processes get the parent death signal.
//
// Find the Asterisk: $CALLIN_ASTERISK (the folder holding asterisk-run), else
// shared/asterisk beside the repository (../shared/asterisk from the module's
// root), else /work/shared/asterisk. When it is not there, or a library it
// needs is missing, New skips the test with a message saying how to enable
// it, except under CI (CI=true), where it fails: CI requires the real PBX.
package pbxtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callin-radio/callin/prompts"
)

// Packages are the Debian packages the real Asterisk and the SIP callers need.
const Packages = "libjansson4 libedit2 libxml2 libxslt1.1 libsqlite3-0 libuuid1 libssl3 sox sip-tester espeak-ng"

// ErrNoAsterisk means the real Asterisk could not be found or started here.
var ErrNoAsterisk = errors.New("pbxtest: no real Asterisk")

// Config says how to start an Asterisk.
type Config struct {
	// Dir is the instance's folder; empty makes a short temporary one
	// (Asterisk's control socket path must fit in 107 bytes).
	Dir string
	// Dialplan is the file copied as callin/extensions.conf; empty means
	// the module's dialplan/extensions.conf.
	Dialplan string
	// Extensions and PJSIP are written to etc/test/extensions-local.conf
	// and etc/test/pjsip-local.conf before the start: a test's own contexts,
	// endpoints and trunks.
	Extensions, PJSIP string
	// HTTPPort, SIPPort and RTPStart pin the ports; zero picks free ones.
	// The four phones listen on SIPPort+11 … +14.
	HTTPPort, SIPPort, RTPStart int
	// Trunk is written to etc/test/pjsip-trunk.conf: the SIP trunks to
	// other nodes (NewCluster fills it).
	Trunk string
	// CPUs confines the Asterisk (every thread) to these CPUs, in
	// taskset's list form ("0", "1", "0-1"); empty: anywhere. Kept across
	// Restart. PBX.PinCPUs changes it while it runs (a cluster's nodes
	// each on their own CPU).
	CPUs string
}

// PBX is a running real Asterisk this process started.
type PBX struct {
	// Dir is the instance's folder (logs in Dir/log/messages.log).
	Dir string
	// HTTP is the base URL callin's --nodes and ari.Config.URL take
	// (http://127.0.0.1:PORT, without /ari).
	HTTP string
	// User and Password are the ARI credentials.
	User, Password string
	// SIPPort is where SIP callers send their INVITEs; PhonePorts are where
	// PJSIP/phone1 … phone4 are called.
	SIPPort    int
	PhonePorts [4]int
	// RTPStart is the first of Asterisk's 2,000 RTP ports.
	RTPStart int
	// Node is the node's name in a cluster ("A", "B", …; see NewCluster),
	// "" for a lone instance.
	Node string

	script   string
	cfg      Config
	mu       sync.Mutex
	pid      int
	watchdog *exec.Cmd
}

// Find returns the folder holding asterisk-run, or an error saying how to
// make one available.
func Find() (string, error) {
	var tried []string
	if d := os.Getenv("CALLIN_ASTERISK"); d != "" {
		tried = append(tried, d)
	}
	if root, err := moduleRoot(); err == nil {
		tried = append(tried, filepath.Join(root, "..", "shared", "asterisk"))
	}
	tried = append(tried, "/work/shared/asterisk")
	for _, d := range tried {
		if st, err := os.Stat(filepath.Join(d, "asterisk-run")); err == nil && !st.IsDir() {
			abs, err := filepath.Abs(d)
			if err != nil {
				return "", err
			}
			return abs, nil
		}
	}
	return "", fmt.Errorf("%w: no asterisk-run in %s; set CALLIN_ASTERISK to the folder of shared/asterisk", ErrNoAsterisk, strings.Join(tried, ", "))
}

// moduleRoot is the folder of callin's go.mod, found upwards from the
// working directory (go test runs in the package's folder).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("pbxtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Available says whether a real Asterisk can be started here; the error
// says why not and how to enable it.
func Available() error {
	if _, err := Find(); err != nil {
		return err
	}
	for _, tool := range []string{"sox", "curl", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s is not installed (apt-get install %s)", ErrNoAsterisk, tool, Packages)
		}
	}
	return nil
}

// New starts an Asterisk for t and stops it in t's cleanup. Without a real
// Asterisk it skips t with a message saying how to enable it, or fails t
// under CI (CI=true).
func New(t testing.TB, cfg Config) *PBX {
	t.Helper()
	Require(t)
	takeTurn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("pbxtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pbxtest: Asterisk at %s failed the test; last lines of its log:\n%s", p.HTTP, p.LogTail(40))
		}
		if err := p.Stop(); err != nil {
			t.Errorf("pbxtest: %v", err)
		}
		if !t.Failed() && cfg.Dir == "" {
			os.RemoveAll(p.Dir)
		}
	})
	return p
}

// Require skips t (or fails it under CI) when no real Asterisk is here.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: CI requires the real Asterisk (apt-get install %s)", err, Packages)
		}
		t.Skipf("%v (apt-get install %s, then run again)", err, Packages)
	}
}

// Start starts an Asterisk as cfg says and returns once ARI answers.
func Start(ctx context.Context, cfg Config) (*PBX, error) {
	dir, err := Find()
	if err != nil {
		return nil, err
	}
	p := &PBX{script: filepath.Join(dir, "asterisk-run"), cfg: cfg, User: "callin", Password: "callin"}
	if p.Dir = cfg.Dir; p.Dir == "" {
		if p.Dir, err = os.MkdirTemp("", "pbx"); err != nil {
			return nil, err
		}
	}
	if cfg.Dialplan == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		cfg.Dialplan = filepath.Join(root, "dialplan", "extensions.conf")
	}
	p.cfg.Dialplan = cfg.Dialplan
	if err := p.prepare(); err != nil {
		return nil, err
	}
	if err := p.pickPorts(); err != nil {
		return nil, err
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// prepare writes the test's own configuration and callin's prompts into the
// folder before Asterisk reads it.
func (p *PBX) prepare() error {
	for _, sub := range []string{"etc/test", "var/lib/sounds/en", "var/spool/recording"} {
		if err := os.MkdirAll(filepath.Join(p.Dir, sub), 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/test/extensions-local.conf": "; the test's contexts\n" + p.cfg.Extensions + "\n",
		"etc/test/pjsip-local.conf":      "; the test's endpoints\n" + p.cfg.PJSIP + "\n",
		"etc/test/pjsip-trunk.conf":      "; trunks to the other nodes\n" + p.cfg.Trunk + "\n",
		// Hangup's NOTIFY, which a caller's scenario answers with its BYE.
		"etc/pjsip_notify.conf": "[callin-hangup]\nEvent=>callin-hangup\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(p.Dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	if _, err := prompts.Install(p.SoundsDir(), true); err != nil {
		return err
	}
	return nil
}

// SoundsDir is where the instance reads sound:NAME from (NAME.wav).
func (p *PBX) SoundsDir() string { return filepath.Join(p.Dir, "var", "lib", "sounds", "en") }

// pickPorts chooses free loopback ports: ARI's TCP port, SIP's UDP port with
// the phones' four above it, and a block of 2,000 RTP ports.
func (p *PBX) pickPorts() error {
	var err error
	if p.cfg.HTTPPort == 0 {
		if p.cfg.HTTPPort, err = freeTCP(); err != nil {
			return err
		}
	}
	if p.cfg.SIPPort == 0 {
		if p.cfg.SIPPort, err = freeUDPBlock(15, 1); err != nil {
			return err
		}
	}
	if p.cfg.RTPStart == 0 {
		if p.cfg.RTPStart, err = freeUDPBlock(2000, 2); err != nil {
			return err
		}
	}
	p.HTTP = fmt.Sprintf("http://127.0.0.1:%d", p.cfg.HTTPPort)
	p.SIPPort, p.RTPStart = p.cfg.SIPPort, p.cfg.RTPStart
	for i := range p.PhonePorts {
		p.PhonePorts[i] = p.SIPPort + 11 + i
	}
	return nil
}

func freeTCP() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeUDPBlock picks a random even base in 20000–59999 (outside Linux's
// ephemeral range) whose first ports, sampled every step, are free. Two
// instances started at once by different test binaries could still pick
// overlapping blocks; the random base makes that rare, and Start retries.
func freeUDPBlock(size, step int) (int, error) {
	for range 50 {
		base := 20000 + 2*rand.IntN((40000-size)/2)
		ok := true
		for port := base; port < base+min(size, 40); port += step {
			c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				ok = false
				break
			}
			c.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("pbxtest: no free block of UDP ports")
}

// start runs asterisk-run start, then the watchdog that stops this instance
// if the test process dies without its cleanup.
func (p *PBX) start(ctx context.Context) error {
	out, err := p.run(ctx, "start", p.Dir, "--http", strconv.Itoa(p.cfg.HTTPPort), "--sip", strconv.Itoa(p.cfg.SIPPort),
		"--rtp", strconv.Itoa(p.cfg.RTPStart), "--dialplan", p.cfg.Dialplan)
	if err != nil {
		return fmt.Errorf("%w: asterisk-run start: %v: %s\n%s", ErrNoAsterisk, err, bytes.TrimSpace(out), p.LogTail(20))
	}
	pid := 0
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "ASTERISK_PID="); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid == 0 {
		return fmt.Errorf("pbxtest: asterisk-run start printed no pid: %s", out)
	}
	p.mu.Lock()
	p.pid = pid
	p.mu.Unlock()
	if p.cfg.CPUs != "" {
		if err := p.PinCPUs(p.cfg.CPUs); err != nil {
			p.Kill()
			return err
		}
	}
	return p.startWatchdog()
}

// PinCPUs confines the running Asterisk, every thread it has and every one
// it makes later (a thread inherits its maker's), to cpus (taskset's list
// form: "0", "1", "0-1"), and keeps it for Restart.
func (p *PBX) PinCPUs(cpus string) error {
	pid := p.PID()
	if pid == 0 {
		return errors.New("pbxtest: PinCPUs: Asterisk is not running")
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pbxtest: taskset -c %s Asterisk: %v: %s", cpus, err, bytes.TrimSpace(out))
	}
	p.cfg.CPUs = cpus
	return nil
}

// startWatchdog starts a shell that waits for the end of a pipe only this
// process writes to, then stops the instance: the pipe ends when this process
// exits, however it exits.
func (p *PBX) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", `cat > /dev/null; exec "$0" stop "$1" > /dev/null 2>&1`, p.script, p.Dir)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // not killed with the test's process group by a ^C
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	r.Close()
	p.mu.Lock()
	p.watchdog = cmd
	p.mu.Unlock()
	// The write end stays open in this process until Stop; it is never
	// written to. Keep it referenced so the finalizer does not close it.
	go func() { cmd.Wait(); w.Close() }()
	watchdogPipes.Store(p.Dir, w)
	return nil
}

var watchdogPipes sync.Map // Dir → *os.File, the watchdog's pipe

// endWatchdog kills the watchdog (its process group: the shell and its cat)
// before its pipe is closed, so it cannot stop an instance started again.
func (p *PBX) endWatchdog() {
	p.mu.Lock()
	cmd := p.watchdog
	p.watchdog = nil
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if w, ok := watchdogPipes.LoadAndDelete(p.Dir); ok {
		w.(*os.File).Close()
	}
}

// run runs asterisk-run with the instance's environment.
func (p *PBX) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, p.script, args...)
	cmd.Dir = filepath.Dir(p.cfg.Dialplan) // asterisk-run finds nothing by itself: every path is given
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// PID is the running Asterisk's process id (0 when stopped).
func (p *PBX) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Stop stops Asterisk (core stop now, then signals to its pid alone) and the
// watchdog. Stopping a stopped instance does nothing.
func (p *PBX) Stop() error {
	pid := p.detach()
	if pid == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := p.run(ctx, "stop", p.Dir); err != nil {
		return fmt.Errorf("asterisk-run stop %s: %v: %s", p.Dir, err, out)
	}
	return nil
}

// detach forgets the running Asterisk's pid and ends its watchdog, before
// this process stops it itself; it returns the pid (0: none was running).
func (p *PBX) detach() int {
	p.mu.Lock()
	pid := p.pid
	p.pid = 0
	p.mu.Unlock()
	p.endWatchdog()
	return pid
}

// Restart stops Asterisk and starts it again on the same ports and folder,
// as an operator's restart does: every call ends, ARI comes back.
func (p *PBX) Restart(ctx context.Context) error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.start(ctx)
}

// Kill ends Asterisk with SIGKILL, as a crash does (no close frame, no
// hang-ups sent). Restart brings it back.
func (p *PBX) Kill() error {
	pid := p.detach()
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("pbxtest: Asterisk pid %d still there after SIGKILL", pid)
}

// CLI runs an Asterisk CLI command (asterisk -rx) and returns its output.
func (p *PBX) CLI(ctx context.Context, command string) (string, error) {
	out, err := p.run(ctx, "cli", p.Dir, command)
	if err != nil {
		return "", fmt.Errorf("pbxtest: cli %q: %v: %s", command, err, out)
	}
	return string(out), nil
}

// LogTail returns the last n lines of Asterisk's messages log.
func (p *PBX) LogTail(n int) string {
	b, err := os.ReadFile(filepath.Join(p.Dir, "log", "messages.log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// LogLines returns the lines of Asterisk's messages log that contain s.
func (p *PBX) LogLines(s string) []string {
	f, err := os.Open(filepath.Join(p.Dir, "log", "messages.log"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// Sound writes a sound the instance can play as sound:NAME: a sine tone of
// freq Hz for d, 8 kHz mono 16-bit (freq 0: silence).
func (p *PBX) Sound(name string, freq int, d time.Duration) error {
	path := filepath.Join(p.SoundsDir(), name+".wav")
	secs := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
	args := []string{"-n", "-r", "8000", "-c", "1", "-b", "16", path, "synth", secs, "sine", strconv.Itoa(freq), "vol", "0.5"}
	if freq == 0 {
		args = []string{"-n", "-r", "8000", "-c", "1", "-b", "16", path, "trim", "0", secs}
	}
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pbxtest: sox %s: %v: %s", name, err, out)
	}
	return nil
}

// Get sends an ARI GET (path after /ari) and returns the status and body:
// for tests that look at Asterisk without touching callin's connection.
func (p *PBX) Get(ctx context.Context, path string) (int, []byte, error) {
	return p.do(ctx, http.MethodGet, path)
}

// Delete sends a raw ARI DELETE (path after /ari, query included), e.g.
// "/channels/ID?reason_code=16", and returns the status and body.
func (p *PBX) Delete(ctx context.Context, path string) (int, []byte, error) {
	return p.do(ctx, http.MethodDelete, path)
}

func (p *PBX) do(ctx context.Context, method, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.HTTP+"/ari"+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(p.User, p.Password)
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes(), err
}
