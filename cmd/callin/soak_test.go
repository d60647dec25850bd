package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// BenchmarkHoardSoak is the soak of issue 21: one address (127.0.0.2)
// hoards connections and event streams while, from 127.0.0.1, a producer's
// request loop (the console's show page with a session cookie, then
// GET /api/v1/shows/morning with the automation's token, 10 ms apart) and
// the automation's event stream (a caller arriving every 500 ms, timed
// until the stream tells of it, then hanging up) work beside it. The
// hoarder is a process of its own (hoarder_test.go), so that its
// goroutines, allocations and garbage collection are not callin's. A
// plain net/http server doing about a console page's CPU a request, also
// a process of its own (the control), is asked in the same loop: what the
// hoarder and the rest of the machine do to latency shows in the
// control's.
//
// A round alternates 4 quiet windows and 4 hoarding windows of 50 turns
// (a new hoarder process each; other work on the machine changes its load
// from second to second, and so weighs on both alike). It reports the p99
// of the hoarding windows ÷ the quiet ones, for callin's requests (goal:
// at most 2, no error) and for the control's; what the hoarder got; and
// the goroutines and live heap before, at the peak and after, once the
// hoarder has let go. The limits are serve's (web.DefaultLimits) but for
// the stream recheck (hostileLimits).
//
// The hoarder three ways: "connections" opens 200 connections a second
// from 8 goroutines (GET /login kept alive, GET /healthz every fourth; the
// issue's probe averaged 164 requests a second) and logs in not at all;
// "streams" logs a host (one of its own each round) in 10 times a second,
// up to 40 times a window, opening 8 console streams per session (the
// issue's host did 25 logins a second); "both" does both at once, at
// those rates; "flat-out" does both as fast as it can. HOARD_CPUPROFILE=DIR writes callin's CPU profile of each round's
// first hoarding window there.
//
//	go test -run '^$' -bench HoardSoak -benchtime 5x -v ./cmd/callin/
func BenchmarkHoardSoak(b *testing.B) {
	b.Run("connections", func(b *testing.B) { hoardSoak(b, hoardPlan{Conns: 8, ConnEvery: time.Second / 200}) })
	b.Run("streams", func(b *testing.B) {
		hoardSoak(b, hoardPlan{Logins: 40, LoginEvery: time.Second / 10, PerSession: 8})
	})
	b.Run("both", func(b *testing.B) {
		hoardSoak(b, hoardPlan{Conns: 8, ConnEvery: time.Second / 200, Logins: 40, LoginEvery: time.Second / 10, PerSession: 8})
	})
	b.Run("flat-out", func(b *testing.B) {
		hoardSoak(b, hoardPlan{Conns: 8, Logins: 40, PerSession: 8, pinned: true})
	})
}

// The flat-out hoarder takes a whole CPU of its own opening connections:
// on the soak's machine, one of two, which no server can give back. So
// that the ratio measures callin's own cost, that hoard runs with the
// hoarder on soakHoarderCPU and callin (this process, every thread) and
// the control on soakServerCPU (taskset; unpinned, with a log line, where
// taskset or a second CPU is missing). PostgreSQL and the rest of the
// machine stay on any CPU.
const (
	soakServerCPU  = "0"
	soakHoarderCPU = "1"
)

// pinSoak puts this process's every thread on soakServerCPU until the
// benchmark ends, and reports whether it could.
func pinSoak(b *testing.B) bool {
	if _, err := exec.LookPath("taskset"); err != nil || runtime.NumCPU() < 2 {
		b.Logf("flat-out unpinned: taskset %v, %d CPUs", err, runtime.NumCPU())
		return false
	}
	pid := strconv.Itoa(os.Getpid())
	out, err := exec.Command("taskset", "-p", pid).Output()
	if err != nil {
		b.Fatalf("taskset -p: %v", err)
	}
	mask := strings.TrimSpace(string(out[bytes.LastIndexByte(out, ':')+1:]))
	if out, err := exec.Command("taskset", "-a", "-p", "-c", soakServerCPU, pid).CombinedOutput(); err != nil {
		b.Fatalf("taskset -a -p -c %s: %v: %s", soakServerCPU, err, out)
	}
	b.Cleanup(func() { _ = exec.Command("taskset", "-a", "-p", mask, pid).Run() })
	return true
}

// soakRig is the service under the soak and its honest users.
type soakRig struct {
	s       *target
	token   string
	console *http.Client // the producer's session
	api     *http.Client
	control string // the control's URL
	pinned  bool   // callin and the control on soakServerCPU
	auto    *sseStream
	callers int
	base    bytes.Buffer // the goroutines at the baseline (pprof, debug=1)
}

// soakPhase is one phase's latencies and errors.
type soakPhase struct {
	console, api, control, events []time.Duration
	errs                          []string
	cpu, wall                     time.Duration // callin's process CPU, and the time it took
	busyTicks                     machineCPU    // the machine's CPU ticks meanwhile
}

// callin is the console's and the API's latencies together.
func (p soakPhase) callin() []time.Duration { return append(slices.Clone(p.console), p.api...) }

const soakPassword = "a-long-password-123"

// newSoakRig starts the service, its honest users and the control, pinned
// (callin and the control on soakServerCPU) when pin says so.
func newSoakRig(b *testing.B, pin bool) *soakRig {
	limits := hostileLimits()
	d := web.DefaultLimits()
	limits.IdleTimeout, limits.ReadHeaderTimeout = d.IdleTimeout, d.ReadHeaderTimeout
	limits.ReadTimeout, limits.WriteTimeout = d.ReadTimeout, d.WriteTimeout
	s := startTarget(b, "", "morning", limits)
	r := &soakRig{s: s, token: s.token(b, "automation", auth.RoleProducer), api: &http.Client{Timeout: 10 * time.Second}}
	r.console = s.login(b, "pat", auth.RoleProducer, "morning").c
	r.auto = openSSEStream(b, s.base+"/api/v1/shows/morning/events", nil, withToken(r.token))
	if r.auto.status != http.StatusOK {
		b.Fatalf("automation stream: %d %s", r.auto.status, r.auto.body)
	}
	cpus := ""
	if pin && pinSoak(b) {
		cpus = soakServerCPU
	}
	_, out, _ := startHelper(b, cpus, "control")
	addr, err := out.ReadString('\n')
	if err != nil {
		b.Fatal("control:", err)
	}
	r.control = "http://" + strings.TrimSpace(addr) + "/"
	r.pinned = cpus != ""
	return r
}

// addUser adds a user with soakPassword.
func (r *soakRig) addUser(b *testing.B, name string, role auth.Role) {
	store, err := openStore(context.Background(), r.s.dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if err := auth.AddUser(context.Background(), store, name, role, soakPassword); err != nil {
		b.Fatal(err)
	}
}

// get sends one GET with c and reads the answer; any status but 200 is an
// error.
func soakGet(c *http.Client, url, token string) (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %d", req.URL.Path, res.StatusCode)
		}
	}
	return time.Since(start), err
}

// phase runs n turns of the producer's loop (the show page, the API, the
// control, 10 ms apart) while a caller arrives every 500 ms on the
// automation's stream.
func (r *soakRig) phase(b *testing.B, n int) soakPhase {
	var p soakPhase
	cpu0, busy0, start := processCPU(), readMachineCPU(), time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			d, err := r.arrival(b)
			mu.Lock()
			if err != nil {
				p.errs = append(p.errs, err.Error())
			} else {
				p.events = append(p.events, d)
			}
			mu.Unlock()
		}
	})
	record := func(to *[]time.Duration, d time.Duration, err error) {
		mu.Lock()
		*to = append(*to, d)
		if err != nil {
			p.errs = append(p.errs, err.Error())
		}
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	for range n {
		d, err := soakGet(r.console, r.s.base+"/shows/morning", "")
		record(&p.console, d, err)
		d, err = soakGet(r.api, r.s.base+"/api/v1/shows/morning", r.token)
		record(&p.api, d, err)
		d, err = soakGet(r.api, r.control, "")
		record(&p.control, d, err)
	}
	close(stop)
	wg.Wait()
	p.cpu = processCPU() - cpu0
	p.wall = time.Since(start)
	now := readMachineCPU()
	p.busyTicks = machineCPU{busy: now.busy - busy0.busy, total: now.total - busy0.total}
	return p
}

// arrival has a caller arrive and returns how long until the automation's
// stream told of it; the caller then hangs up.
func (r *soakRig) arrival(b *testing.B) (time.Duration, error) {
	r.callers++
	number := fmt.Sprintf("+1202555%04d", r.callers)
	start := time.Now()
	call, err := r.s.pbx.Call(context.Background(), aritest.CallOptions{Args: []string{"morning"}, Number: number})
	if err != nil {
		return 0, err
	}
	// The caller hangs up once seen: the show page stays the same size
	// from phase to phase.
	defer call.Hangup(16)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-r.auto.ch:
			if !ok {
				return 0, fmt.Errorf("the automation's stream ended")
			}
			if ev.name == "transition" && strings.Contains(ev.data, number[1:]) {
				return time.Since(start), nil
			}
		case <-timeout:
			return 0, fmt.Errorf("the automation's stream told of no caller %s in 10 s", number)
		}
	}
}

// hoardSoak runs BenchmarkHoardSoak's rounds with the hoarder's plan.
// A round alternates quiet windows and hoarding windows (a new hoarder
// process each), so that the machine's load, which other work changes
// from second to second, weighs on both alike; then the hoarder's
// goroutines and heap must be gone and the loop runs once more (after).
func hoardSoak(b *testing.B, plan hoardPlan) {
	const (
		windows = 4
		turns   = 50 // a window: 150 requests, 100 to callin
	)
	r := newSoakRig(b, plan.pinned)
	hoarderCPU := ""
	if plan.pinned && r.pinned {
		hoarderCPU = soakHoarderCPU
	}
	plan.Addr, plan.From, plan.Password, plan.Show = r.s.addr, "127.0.0.2", soakPassword, "morning"
	r.phase(b, 30) // warm up
	g0, h0 := settleMem()
	_ = pprof.Lookup("goroutine").WriteTo(&r.base, 1)
	b.ResetTimer()
	for round := range b.N {
		// A host of its own each round: one host's logins an hour are
		// spent in the first window of the first round.
		plan.User = fmt.Sprintf("hoster-%d", round)
		r.addUser(b, plan.User, auth.RoleHost)
		planJSON, _ := json.Marshal(plan)
		var before, during soakPhase
		var got hoardResult
		var peakG int
		var peakHeap uint64
		for w := range windows {
			before.add(r.phase(b, turns))
			in, out, cmd := startHelper(b, hoarderCPU, "hoarder", hoardPlanEnv+"="+string(planJSON))
			var prof *os.File
			if dir := os.Getenv("HOARD_CPUPROFILE"); dir != "" && w == 0 {
				prof = startProfile(b, filepath.Join(dir, fmt.Sprintf("%s-%d.prof", strings.ReplaceAll(b.Name(), "/", "-"), round)))
			}
			during.add(r.phaseWatching(b, turns, &peakG, &peakHeap))
			if prof != nil {
				pprof.StopCPUProfile()
				prof.Close()
			}
			fmt.Fprintln(in, "stop")
			var res hoardResult
			line, err := out.ReadString('\n')
			if err != nil || json.Unmarshal([]byte(line), &res) != nil {
				b.Fatalf("hoarder's result: %q %v", line, err)
			}
			got.add(res)
			in.Close() // the hoarder lets go
			_ = cmd.Wait()
		}
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
		g1, h1 := settleMemTo(g0)
		after := r.phase(b, windows*turns/2)
		r.report(b, before, during, after, got, [3]int{g0, peakG, g1}, [3]uint64{h0, peakHeap, h1})
		load, _ := os.ReadFile("/proc/loadavg")
		b.Logf("hoarder's processes, CPU in all so far: %.1f s; load average %s", time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds(), strings.Join(strings.Fields(string(load))[:3], " "))
	}
}

// add adds q's figures to p's.
func (p *soakPhase) add(q soakPhase) {
	p.console = append(p.console, q.console...)
	p.api = append(p.api, q.api...)
	p.control = append(p.control, q.control...)
	p.events = append(p.events, q.events...)
	p.errs = append(p.errs, q.errs...)
	p.cpu += q.cpu
	p.wall += q.wall
	p.busyTicks.busy += q.busyTicks.busy
	p.busyTicks.total += q.busyTicks.total
}

// add adds q's counts to r's.
func (r *hoardResult) add(q hoardResult) {
	r.Attempts += q.Attempts
	r.Served += q.Served
	r.Probes += q.Probes
	r.Refused503 += q.Refused503
	r.Refused429 += q.Refused429
	r.Failed += q.Failed
	r.HeldAtEnd = max(r.HeldAtEnd, q.HeldAtEnd)
	r.LoginsOK += q.LoginsOK
	r.Logins429 += q.Logins429
	r.LoginsReset += q.LoginsReset
	r.StreamsOK += q.StreamsOK
	r.Streams429 += q.Streams429
	r.Other += q.Other
	r.Others = append(r.Others, q.Others...)
}

// phaseWatching is phase, noting the peak goroutines and heap meanwhile.
func (r *soakRig) phaseWatching(b *testing.B, n int, peakG *int, peakHeap *uint64) soakPhase {
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			*peakG, *peakHeap = max(*peakG, runtime.NumGoroutine()), max(*peakHeap, m.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	p := r.phase(b, n)
	close(done)
	<-watched
	return p
}

func startProfile(b *testing.B, path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return f
}

// pct is the p-quantile of lat.
func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	l := slices.Clone(lat)
	slices.Sort(l)
	return l[min(len(l)-1, int(p*float64(len(l))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// report logs and reports one round.
func (r *soakRig) report(b *testing.B, before, during, after soakPhase, got hoardResult, g [3]int, h [3]uint64) {
	ratio := func(p99 func(soakPhase) time.Duration) float64 {
		return float64(p99(during)) / float64(p99(before))
	}
	callin99 := func(p soakPhase) time.Duration { return pct(p.callin(), 0.99) }
	control99 := func(p soakPhase) time.Duration { return pct(p.control, 0.99) }
	errs := len(before.errs) + len(during.errs) + len(after.errs)
	line := func(name string, p soakPhase) string {
		return fmt.Sprintf("%s: console p50/p99 %.2f/%.2f ms, API %.2f/%.2f, callin p99 %.2f, control %.2f/%.2f, stream arrival p50/max %.1f/%.1f ms (%d), callin CPU %.0f%% of a core, machine busy %.0f%%, %d errors",
			name, ms(pct(p.console, 0.5)), ms(pct(p.console, 0.99)), ms(pct(p.api, 0.5)), ms(pct(p.api, 0.99)), ms(callin99(p)),
			ms(pct(p.control, 0.5)), ms(control99(p)), ms(pct(p.events, 0.5)), ms(pct(p.events, 1)), len(p.events), 100*p.cpu.Seconds()/p.wall.Seconds(), 100*p.busyTicks.share(), len(p.errs))
	}
	b.Logf("%s\n%s\n%s\ncallin p99 ×%.2f during/before (console ×%.2f, API ×%.2f), control ×%.2f; hoarder %+v; goroutines %d/%d/%d, heap %.1f/%.1f/%.1f MiB (before/peak/after)",
		line("before", before), line("during", during), line("after", after),
		ratio(callin99), ratio(func(p soakPhase) time.Duration { return pct(p.console, 0.99) }),
		ratio(func(p soakPhase) time.Duration { return pct(p.api, 0.99) }), ratio(control99),
		got, g[0], g[1], g[2], float64(h[0])/(1<<20), float64(h[1])/(1<<20), float64(h[2])/(1<<20))
	for _, m := range []struct {
		v    float64
		unit string
	}{
		{ms(callin99(before)), "p99ms-before"}, {ms(callin99(during)), "p99ms-during"}, {ms(callin99(after)), "p99ms-after"},
		{ratio(callin99), "p99-ratio"}, {ratio(control99), "control-p99-ratio"}, {float64(errs), "errors"},
		{float64(got.Attempts), "hoard-attempts"}, {float64(got.Served), "hoard-served"}, {float64(got.HeldAtEnd), "hoard-held-at-end"},
		{float64(got.Refused429 + got.Refused503), "hoard-refused"}, {float64(got.StreamsOK), "hoard-streams"},
		{float64(g[2] - g[0]), "goroutines-after-minus-before"}, {float64(h[2]) / (1 << 20), "heapMiB-after"},
	} {
		b.ReportMetric(m.v, m.unit)
	}
	for _, e := range slices.Concat(before.errs, during.errs, after.errs)[:min(5, errs)] {
		b.Errorf("producer: %s", e)
	}
	if got.Other > 0 {
		b.Errorf("hoarder: %d logins or streams failed otherwise than 429: %q", got.Other, got.Others)
	}
	if g[2] > g[0]+5 || h[2] > h[0]+16<<20 {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("hoard-goroutines-%d.txt", time.Now().UnixNano()))
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("goroutine").WriteTo(f, 1)
			fmt.Fprintf(f, "\n\nAt the baseline:\n%s", r.base.Bytes())
			f.Close()
		}
		b.Errorf("not back to the baseline: goroutines %d -> %d, heap %d -> %d MiB (goroutines in %s)", g[0], g[2], h[0]>>20, h[2]>>20, path)
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU is the machine's CPU time counters (/proc/stat), busy and
// all, in clock ticks.
type machineCPU struct{ busy, total float64 }

func readMachineCPU() machineCPU {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	var m machineCPU
	for i, f := range strings.Fields(line)[1:] {
		if i >= 8 { // guest time, counted in user time already
			break
		}
		v, _ := strconv.ParseFloat(f, 64)
		m.total += v
		if i != 3 && i != 4 { // idle, iowait
			m.busy += v
		}
	}
	return m
}

// share is the busy share of m.
func (m machineCPU) share() float64 {
	if m.total == 0 {
		return 0
	}
	return m.busy / m.total
}
