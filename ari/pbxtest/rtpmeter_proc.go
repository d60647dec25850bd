package pbxtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RTPMeter receives the RTP Asterisk sends to quiet callers (CallerConfig
// MediaPort: their SDP names the meter's port instead of sipp's) and counts
// the packets arriving from each of Asterisk's RTP ports, one a call: what
// each caller would hear, measured where it arrives, without sipp
// streaming or reading media. It runs in a process of its own (this test
// binary started again with PBXTEST_RTPMETER set: see init), so that its
// CPU time is not the test process's (callin's, in a benchmark), and
// CPU reads it. The kernel's drops on its socket are read back (Drops), so
// that a window where the meter itself fell behind shows as such.
type RTPMeter struct {
	// Port is the UDP port RTP is sent to (RTCP goes to Port+1 and is
	// read and dropped).
	Port int

	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// meterEnv names the meter process's port in its environment.
const meterEnv = "PBXTEST_RTPMETER"

// A test binary started with PBXTEST_RTPMETER=PORT is an RTPMeter's
// process: it serves the meter on stdin and stdout, then exits, before
// any test runs.
func init() {
	if port := os.Getenv(meterEnv); port != "" {
		os.Exit(serveMeter(port, os.Stdin, os.Stdout))
	}
}

// serveMeter reads commands ("reset", "read") and answers "ok", or one
// line per source ("PORT PACKETS MAXGAP-NS LOST") then "end"; it ends when its
// input does.
func serveMeter(port string, in io.Reader, out io.Writer) int {
	p, err := strconv.Atoi(port)
	if err != nil {
		fmt.Fprintln(out, "error", err)
		return 2
	}
	r, err := openRTPReader(p)
	if err != nil {
		fmt.Fprintln(out, "error", err)
		return 1
	}
	defer r.close()
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, "ready")
	w.Flush()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "reset":
			r.reset()
			fmt.Fprintln(w, "ok")
		case "read":
			for _, c := range r.counts() {
				fmt.Fprintln(w, c.Port, c.Packets, int64(c.MaxGap), c.Lost)
			}
			fmt.Fprintln(w, "end")
		}
		w.Flush()
	}
	return 0
}

// NewRTPMeter starts a meter on a free even loopback port (and the RTCP
// port above it) and stops it at t's cleanup.
func NewRTPMeter(t testing.TB) *RTPMeter {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for range 20 {
		port, err := freeUDPBlock(2, 2)
		if err != nil {
			t.Fatal(err)
		}
		m := &RTPMeter{Port: port, cmd: exec.Command(exe)}
		m.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", meterEnv, port))
		m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		m.cmd.Stderr = os.Stderr
		if m.in, err = m.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := m.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		m.out = bufio.NewReader(stdout)
		if err := m.cmd.Start(); err != nil {
			t.Fatalf("pbxtest: RTP meter: %v", err)
		}
		if last = m.line(); last == "ready" {
			t.Cleanup(m.Close)
			return m
		}
		m.Close()
	}
	t.Fatalf("pbxtest: RTP meter: %s", last)
	return nil
}

func (m *RTPMeter) line() string {
	s, err := m.out.ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(s)
}

// Reset starts a window: every source's count and longest gap from zero.
func (m *RTPMeter) Reset() {
	fmt.Fprintln(m.in, "reset")
	m.line()
}

// Read returns what each source delivered since the last Reset, by port
// (sources that sent nothing in the window are left out).
func (m *RTPMeter) Read() []RTPCount {
	fmt.Fprintln(m.in, "read")
	var out []RTPCount
	for {
		f := strings.Fields(m.line())
		if len(f) != 4 {
			return out
		}
		var c RTPCount
		var gap int64
		c.Port, _ = strconv.Atoi(f[0])
		c.Packets, _ = strconv.Atoi(f[1])
		gap, _ = strconv.ParseInt(f[2], 10, 64)
		c.MaxGap = time.Duration(gap)
		c.Lost, _ = strconv.Atoi(f[3])
		out = append(out, c)
	}
}

// Pid is the meter's process id.
func (m *RTPMeter) Pid() int { return m.cmd.Process.Pid }

// CPU is the CPU time the meter's process has used.
func (m *RTPMeter) CPU() time.Duration { return ProcessCPU(m.cmd.Process.Pid) }

// Drops is the kernel's count of packets dropped on the meter's socket
// because the meter fell behind.
func (m *RTPMeter) Drops() int { return udpDrops(m.Port) }

// Close stops the meter's process (its input ends) and waits for it.
func (m *RTPMeter) Close() {
	if m.in == nil {
		return
	}
	m.in.Close()
	m.in = nil
	done := make(chan struct{})
	go func() { m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		m.cmd.Process.Kill()
		<-done
	}
}
