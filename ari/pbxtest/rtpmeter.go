package pbxtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// rtpReader counts the packets arriving on a UDP port by source port, on
// one OS thread of its own with blocking system calls; its socket's
// buffer is 32 MB (SO_RCVBUFFORCE, as root; else the system's maximum).
// RTCP, on the port above, is read and dropped.
type rtpReader struct {
	Port int

	fd, rtcp int
	stop     atomic.Bool
	done     chan struct{}

	mu  sync.Mutex
	src map[int]*rtpSource // by Asterisk's RTP port
}

type rtpSource struct {
	packets int
	last    time.Time
	maxGap  time.Duration
	// seq is the last sequence number, extended past its 16-bit wrap;
	// first is the window's first.
	seq, first int64
	seen       bool
}

// RTPCount is what one source (one call) delivered in a window.
type RTPCount struct {
	Port    int           // Asterisk's RTP port for the call
	Packets int           // packets received in the window
	MaxGap  time.Duration // the longest time between two of them
	// Lost is how many packets the sequence numbers of those received
	// say were sent in between and never arrived (late ones are not lost).
	Lost int
}

func udpSocket(port int) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func openRTPReader(port int) (*rtpReader, error) {
	fd, err := udpSocket(port)
	if err != nil {
		return nil, err
	}
	rtcp, err := udpSocket(port + 1)
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	const buf = 32 << 20
	if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, buf) != nil {
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, buf)
	}
	m := &rtpReader{Port: port, fd: fd, rtcp: rtcp, done: make(chan struct{}), src: map[int]*rtpSource{}}
	started := make(chan struct{})
	go m.read(started)
	go m.drain()
	<-started
	return m, nil
}

// read counts packets by source port on a thread of its own.
func (m *rtpReader) read(started chan<- struct{}) {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	defer close(m.done)
	close(started)
	buf := make([]byte, 2048)
	for {
		n, from, err := syscall.Recvfrom(m.fd, buf, 0)
		if m.stop.Load() {
			return
		}
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return
		}
		sa, ok := from.(*syscall.SockaddrInet4)
		if !ok || n < 12 {
			continue
		}
		now := time.Now()
		m.mu.Lock()
		s := m.src[sa.Port]
		if s == nil {
			s = &rtpSource{}
			m.src[sa.Port] = s
		}
		if !s.last.IsZero() {
			s.maxGap = max(s.maxGap, now.Sub(s.last))
		}
		seq := uint16(buf[2])<<8 | uint16(buf[3])
		switch d := int16(seq - uint16(s.seq)); {
		case !s.seen:
			s.seq, s.seen = int64(seq), true
		case d > 0:
			s.seq += int64(d)
		}
		if s.packets == 0 {
			s.first = s.seq
		}
		s.packets++
		s.last = now
		m.mu.Unlock()
	}
}

// drain reads and drops RTCP, so Asterisk's reports meet an open port.
func (m *rtpReader) drain() {
	buf := make([]byte, 2048)
	for !m.stop.Load() {
		if _, _, err := syscall.Recvfrom(m.rtcp, buf, 0); err != nil && !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// caughtUp waits (up to a second) until the reader has taken every packet
// that has arrived (the socket's queue empty, FIONREAD), so that a window
// starts and ends with what arrived by then, not with what a late reader
// had counted: a reader held up for a moment would otherwise short every
// call's count alike.
func (m *rtpReader) caughtUp() {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		var pending int32
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(m.fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&pending)))
		if errno != 0 || pending == 0 {
			return
		}
		time.Sleep(time.Millisecond) // the reader is draining the queue
	}
}

// reset starts a window: every source's count and longest gap from zero.
func (m *rtpReader) reset() {
	m.caughtUp()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.src {
		s.packets, s.maxGap = 0, 0
	}
}

// read returns what each source delivered since the last reset, by port
// (sources that sent nothing in the window are left out).
func (m *rtpReader) counts() []RTPCount {
	m.caughtUp()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]RTPCount, 0, len(m.src))
	for port, s := range m.src {
		if s.packets > 0 {
			out = append(out, RTPCount{Port: port, Packets: s.packets, MaxGap: s.maxGap, Lost: max(0, int(s.seq-s.first+1)-s.packets)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}

// udpDrops is the kernel's count of packets dropped on a loopback UDP
// port's socket because its reader fell behind (its line of
// /proc/net/udp; -1 if not found).
func udpDrops(port int) int {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return -1
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 13 && f[1] == local {
			d, _ := strconv.Atoi(f[len(f)-1])
			return d
		}
	}
	return -1
}

// close stops the reader and closes its sockets.
func (m *rtpReader) close() {
	if m.stop.Swap(true) {
		return
	}
	// A datagram to each socket wakes its blocked read, which sees stop.
	for _, port := range []int{m.Port, m.Port + 1} {
		if fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0); err == nil {
			_ = syscall.Sendto(fd, []byte{0}, 0, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
			syscall.Close(fd)
		}
	}
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
	}
	syscall.Close(m.fd)
	syscall.Close(m.rtcp)
}

// ProcessCPU is a process's user and system CPU time so far
// (/proc/PID/stat; 0 if it cannot be read).
func ProcessCPU(pid int) time.Duration { return statCPU(fmt.Sprintf("/proc/%d/stat", pid)) }

// statCPU reads fields 14 and 15 (utime, stime, in ticks of 1/100 s on
// Linux) of a stat file.
func statCPU(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := string(b)
	// The command name (field 2) may hold spaces: count from after it.
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Renice sets the nice value of every thread of process pid (a thread
// made later inherits its maker's): a benchmark gives the Asterisks it
// pins to a CPU, and its meters, the first call on their CPU against
// whatever else the machine runs (negative values need root).
func Renice(pid, nice int) error {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("pbxtest: renice %d (thread %d of %d): %w", nice, tid, pid, err)
		}
	}
	return nil
}

// Realtime puts every thread of process pid (and the threads it makes
// later, which inherit it) in the real-time class SCHED_FIFO at priority
// prio (chrt; root only): a benchmark's Asterisk pinned to a CPU then
// runs there as on a machine of its own, whatever else this machine runs,
// up to the kernel's real-time limit (95 % of the CPU by default).
func Realtime(pid, prio int) error {
	out, err := exec.Command("chrt", "-f", "-a", "-p", strconv.Itoa(prio), strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pbxtest: chrt -f %d %d: %v: %s", prio, pid, err, strings.TrimSpace(string(out)))
	}
	return nil
}
