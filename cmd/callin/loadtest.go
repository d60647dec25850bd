package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/postgres/pgcluster"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// loadShow is the show the load test runs.
const loadShow = "loadtest"

// loadConfig is what `callin loadtest` was asked to do.
type loadConfig struct {
	Callers      int
	Rate         float64
	Concurrency  int
	Consoles     int // API event streams, each measuring fan-out latency
	Browsers     int // console (HTML fragment) streams of a logged-in producer
	PromoteEvery time.Duration
	HangupEvery  time.Duration
	Cycles       int
	MaxOnAir     int
	Duration     time.Duration
	DatabaseURL  string
	LogLevel     string
	FakeAlone    bool
	CPUProfile   string
}

func cmdLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c loadConfig
	fs.IntVar(&c.Callers, "callers", 600, "callers who dial in")
	fs.Float64Var(&c.Rate, "rate", 100, "callers arriving per second (evenly spaced)")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "calls being placed at once at most")
	fs.IntVar(&c.Consoles, "consoles", 2, "API event streams (/api/v1/shows/{show}/events) measuring fan-out latency (at least 1)")
	fs.IntVar(&c.Browsers, "browsers", 1, "console streams (/shows/{show}/live) of a logged-in producer")
	fs.DurationVar(&c.PromoteEvery, "promote-every", 250*time.Millisecond, "a producer promotes a caller (and drops one when on air is full) this often")
	fs.DurationVar(&c.HangupEvery, "hangup-every", 250*time.Millisecond, "a random waiting caller hangs up this often (0: never)")
	fs.IntVar(&c.Cycles, "cycles", 20, "promote/drop cycles after the last caller was admitted, then the run ends")
	fs.IntVar(&c.MaxOnAir, "max-on-air", 4, "the show's on-air limit")
	fs.DurationVar(&c.Duration, "duration", 10*time.Minute, "the run ends after this long in any case")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL URL (default: a throwaway local cluster under /tmp, removed at the end)")
	fs.StringVar(&c.LogLevel, "log-level", "warn", "the service's log level: debug, info, warn or error")
	fs.BoolVar(&c.FakeAlone, "fake-alone", true, "after the run, measure the fake Asterisk's heap alone with the same number of callers")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the loaded period (the whole process) to this file")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	switch {
	case c.Callers < 1:
		return usagef("loadtest: --callers must be at least 1")
	case c.Rate <= 0:
		return usagef("loadtest: --rate must be positive")
	case c.Consoles < 1:
		return usagef("loadtest: --consoles must be at least 1 (the first stream also tracks the callers)")
	case c.Browsers < 0 || c.Concurrency < 1 || c.Cycles < 0 || c.MaxOnAir < 1:
		return usagef("loadtest: --browsers, --cycles must not be negative; --concurrency, --max-on-air must be at least 1")
	case c.PromoteEvery <= 0 || c.HangupEvery < 0 || c.Duration <= 0:
		return usagef("loadtest: --promote-every and --duration must be positive, --hangup-every not negative")
	}
	log, err := newLogger(stderr, "text", c.LogLevel)
	if err != nil {
		return err
	}
	rep, err := runLoad(ctx, c, log, stderr)
	if err != nil {
		return err
	}
	rep.print(stdout, c)
	return nil
}

// loadReport is what a run measured.
type loadReport struct {
	Placed, Admitted, Rejected int
	AdmitTime                  time.Duration // first call placed to last caller waiting
	AdmitLat                   *hist         // call placed to the waiting transition
	Promote, Drop              *hist         // HTTP round trips
	PromoteFailed              map[int]int   // HTTP status -> count
	Promotes, Drops, Hangups   int
	FanOut                     *hist // transition at -> receipt, every API stream
	FanOutOnAir                *hist // the same for on_air transitions only
	Console                    *hist // on_air transition at -> the console's onair fragment naming the caller
	ConsoleKicked              int   // streams that ended before the run did
	APIKicked                  int
	BacklogMax, BacklogEnd     int
	Recorded, Seen, Stored     int // transitions: counted by the service, seen on the first stream, in call_events
	LiveAtAdmit                int
	HeapBase, HeapAdmitted     uint64
	FakeHeap                   uint64 // the fake alone with Callers callers
	FakeMeasured               bool
	CPU                        time.Duration
	Wall                       time.Duration
	Goroutines                 int
}

// runLoad starts a database (unless given), the fake Asterisk and the
// service, drives the load, and measures.
func runLoad(ctx context.Context, c loadConfig, log *slog.Logger, progress io.Writer) (*loadReport, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Duration+2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "callin-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dbURL := c.DatabaseURL
	if dbURL == "" {
		cluster, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("loadtest: start PostgreSQL (or pass --database-url): %w", err)
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				log.Error("stopping the load test's PostgreSQL", "err", err)
			}
		}()
		dbURL = cluster.URL()
	}

	// A producer: a token for the API, a password for the console.
	store, err := openStore(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	password := rand.Text()
	err = auth.AddUser(ctx, store, "loadtest", auth.RoleProducer, password)
	if errors.Is(err, queue.ErrConflict) {
		err = auth.SetPassword(ctx, store, "loadtest", password)
	}
	var token string
	if err == nil {
		token, err = auth.CreateToken(ctx, store, "loadtest-"+rand.Text()[:8], auth.RoleProducer, "loadtest")
	}
	store.Close()
	if err != nil {
		return nil, err
	}

	// The fake alone first, in a process that holds nothing else yet.
	var fake uint64
	if c.FakeAlone {
		if fake, err = fakeHeap(ctx, c.Callers); err != nil {
			return nil, fmt.Errorf("loadtest: measure the fake alone: %w", err)
		}
	}

	pbx := aritest.NewServer(aritest.Options{})
	defer pbx.Close()
	addrc := make(chan string, 1)
	cfg := stackConfig{
		Listen: "127.0.0.1:0", DatabaseURL: dbURL, App: "callin",
		Nodes: []nodeSpec{{Name: "load", URL: pbx.URL(), User: pbx.User(), Password: pbx.Password()}},
		Shows: []showSpec{{queue.Config{Key: loadShow, Title: "Load test", Node: "load", LinesOpen: true,
			Capacity: c.Callers + 100, MaxOnAir: c.MaxOnAir, MOHClass: "default"}}},
		Journal: filepath.Join(dir, "history.journal"),
		Logger:  log,
		Started: func(addr string) { addrc <- addr },
	}
	stackCtx, stopStack := context.WithCancel(ctx)
	defer stopStack()
	stackErr := make(chan error, 1)
	go func() { stackErr <- runStack(stackCtx, cfg) }()
	var base string
	select {
	case addr := <-addrc:
		base = "http://" + addr
	case err := <-stackErr:
		return nil, fmt.Errorf("loadtest: the service did not start: %w", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		return nil, err
	}

	l := newLoad(c, pbx, base, token)
	l.rep.FakeHeap, l.rep.FakeMeasured = fake, c.FakeAlone
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var streams sync.WaitGroup
	for i := range c.Consoles {
		ready := make(chan error, 1)
		streams.Go(func() { l.apiStream(streamCtx, i == 0, ready) })
		if err := <-ready; err != nil {
			return nil, err
		}
	}
	if c.Browsers > 0 {
		jar, _ := cookiejar.New(nil)
		if err := login(ctx, base, jar, password); err != nil {
			return nil, err
		}
		for range c.Browsers {
			ready := make(chan error, 1)
			streams.Go(func() { l.consoleStream(streamCtx, jar, ready) })
			if err := <-ready; err != nil {
				return nil, err
			}
		}
	}

	l.rep.HeapBase = liveHeap()
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	start := time.Now()
	l.start = start

	loadCtx, stopLoad := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(loadCtx)
	g.Go(func() error { return l.arrivals(gctx) })
	g.Go(func() error { return l.producer(gctx) })
	g.Go(func() error { return l.hangups(gctx) })
	g.Go(func() error { return l.progress(gctx, progress) })

	deadline := time.NewTimer(c.Duration)
	defer deadline.Stop()
	select {
	case <-l.admittedAll:
		l.rep.HeapAdmitted = liveHeap()
		l.mu.Lock()
		l.rep.LiveAtAdmit = len(l.state)
		l.mu.Unlock()
		select {
		case <-l.cyclesDone:
		case <-deadline.C:
			fmt.Fprintln(progress, "loadtest: --duration reached before the promote/drop cycles ended")
		case <-ctx.Done():
		}
	case <-deadline.C:
		fmt.Fprintln(progress, "loadtest: --duration reached before every caller was admitted")
	case <-ctx.Done():
	}
	stopLoad()
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// The load has stopped: every transition is counted by the service; wait
	// for the tracking stream to see them all, then read the backlog.
	// A call's last events (a drop's ChannelDestroyed) may still be on
	// their way when the load stops: read the counter again until it holds
	// still once the stream has caught up with it.
	caughtUp := time.NewTimer(30 * time.Second)
	defer caughtUp.Stop()
wait:
	for prev := -1; ; {
		l.rep.Recorded = int(scrape(ctx, base, "callin_transitions_total", ""))
		if l.rep.Recorded == prev {
			break
		}
		prev = l.rep.Recorded
		for l.seenCount() < l.rep.Recorded {
			select {
			case <-l.seenMore:
			case <-caughtUp.C:
				fmt.Fprintf(progress, "loadtest: the tracking stream saw %d of %d transitions\n", l.seenCount(), l.rep.Recorded)
				break wait
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		select { // a short pause for stragglers between the two reads
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l.rep.BacklogEnd = int(scrape(ctx, base, "callin_history_backlog", ""))
	l.rep.CPU = cpuTime() - cpu0
	l.rep.Wall = time.Since(start)
	l.rep.Goroutines = runtime.NumGoroutine()

	// Shut the service down (the history writer flushes), then count what
	// reached PostgreSQL.
	l.ended.Store(true)
	stopStack()
	if err := <-stackErr; err != nil {
		return nil, fmt.Errorf("loadtest: the service ended with %w", err)
	}
	stopStreams()
	streams.Wait()
	l.mu.Lock()
	l.rep.Seen = l.seen
	l.rep.consoleLatency(l.onAirAt, l.shownAt)
	l.mu.Unlock()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("loadtest: count call_events: %w", redact(err))
	}
	err = conn.QueryRow(ctx, `SELECT count(*) FROM call_events WHERE show = $1 AND at >= $2`, loadShow, start.Add(-time.Second)).Scan(&l.rep.Stored)
	conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("loadtest: count call_events: %w", err)
	}
	return l.rep, nil
}

// load is the state of one run: the callers placed, what the tracking
// stream saw, and the measurements.
type load struct {
	c     loadConfig
	pbx   *aritest.Server
	base  string
	token string
	http  *http.Client
	start time.Time
	rep   *loadReport

	admittedAll chan struct{} // closed when every caller is admitted or turned away
	cyclesDone  chan struct{} // closed after Cycles promote/drop cycles past admission
	seenMore    chan struct{} // poked when the tracking stream sees a transition
	ended       atomic.Bool   // set before the service shuts down: streams may end

	mu       sync.Mutex
	calls    map[string]*aritest.Call // channel id -> handle
	placedAt map[string]time.Time     // channel id -> when Call was called
	state    map[string]queue.State   // call id -> state, while the call lasts
	channel  map[string]string        // call id -> channel id, while the call lasts
	waiting  []string                 // call ids waiting, for random picks
	widx     map[string]int
	seen     int
	onAirAt  map[string]time.Time // call id -> its on_air transition's at
	shownAt  []map[string]time.Time
}

func newLoad(c loadConfig, pbx *aritest.Server, base, token string) *load {
	// Maps are sized up front so the heap measured after admission does not
	// count their growth as the service's.
	n := c.Callers
	return &load{c: c, pbx: pbx, base: base, token: token,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		rep: &loadReport{AdmitLat: &hist{}, Promote: &hist{}, Drop: &hist{}, FanOut: &hist{}, FanOutOnAir: &hist{},
			Console: &hist{}, PromoteFailed: map[int]int{}},
		admittedAll: make(chan struct{}), cyclesDone: make(chan struct{}), seenMore: make(chan struct{}, 1),
		calls: make(map[string]*aritest.Call, n), placedAt: make(map[string]time.Time, n),
		state: make(map[string]queue.State, n), channel: make(map[string]string, n),
		waiting: make([]string, 0, n), widx: make(map[string]int, n), onAirAt: map[string]time.Time{}}
}

// arrivals places Callers calls, evenly spaced at Rate, at most
// Concurrency at a time.
func (l *load) arrivals(ctx context.Context) error {
	sem := make(chan struct{}, l.c.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	every := time.Duration(float64(time.Second) / l.c.Rate)
	t := time.NewTimer(0)
	defer t.Stop()
	for i := range l.c.Callers {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		t.Reset(time.Until(l.start.Add(time.Duration(i+1) * every)))
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		id := fmt.Sprintf("load-%06d", i)
		l.mu.Lock()
		l.placedAt[id] = time.Now()
		l.rep.Placed++
		l.mu.Unlock()
		wg.Go(func() {
			defer func() { <-sem }()
			call, err := l.pbx.Call(ctx, aritest.CallOptions{Args: []string{loadShow}, ChannelID: id,
				Number: fmt.Sprintf("+1202%07d", i), Name: fmt.Sprintf("Load Caller %d", i)})
			if err != nil {
				return
			}
			l.mu.Lock()
			l.calls[id] = call
			l.mu.Unlock()
		})
	}
	return nil
}

// producer promotes a caller every PromoteEvery, alternating a random
// waiting caller (promote) and the next in line (take-next), after
// dropping the longest on air when on air is full.
func (l *load) producer(ctx context.Context) error {
	tick := time.NewTicker(l.c.PromoteEvery)
	defer tick.Stop()
	var onAir []string
	cycles := 0
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if len(onAir) >= l.c.MaxOnAir {
			id := onAir[0]
			onAir = onAir[1:]
			if d, status, _ := l.post(ctx, "/callers/"+id+"/drop"); status == http.StatusOK {
				l.mu.Lock()
				l.rep.Drops++
				l.mu.Unlock()
				l.rep.Drop.add(d)
			}
		}
		path := "/take-next"
		if i%2 == 0 {
			id, ok := l.randomWaiting()
			if !ok {
				continue
			}
			path = "/callers/" + id + "/promote"
		}
		d, status, call := l.post(ctx, path)
		if ctx.Err() != nil {
			return nil
		}
		l.mu.Lock()
		if status == http.StatusOK {
			l.rep.Promotes++
			onAir = append(onAir, call.ID)
		} else {
			l.rep.PromoteFailed[status]++
		}
		l.mu.Unlock()
		if status == http.StatusOK {
			l.rep.Promote.add(d)
		}
		select {
		case <-l.admittedAll:
			if cycles++; cycles == l.c.Cycles {
				close(l.cyclesDone)
			}
		default:
		}
	}
}

// post sends an API action and returns its round trip, status and call.
func (l *load) post(ctx context.Context, path string) (time.Duration, int, queue.Call) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/api/v1/shows/"+loadShow+path, strings.NewReader("{}"))
	if err != nil {
		return 0, 0, queue.Call{}
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, 0, queue.Call{}
	}
	var c queue.Call
	_ = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	return time.Since(t0), resp.StatusCode, c
}

// randomWaiting picks a waiting caller at random.
func (l *load) randomWaiting() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.waiting) == 0 {
		return "", false
	}
	return l.waiting[mrand.IntN(len(l.waiting))], true
}

// hangups hangs up a random waiting caller every HangupEvery.
func (l *load) hangups(ctx context.Context) error {
	if l.c.HangupEvery == 0 {
		return nil
	}
	tick := time.NewTicker(l.c.HangupEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		id, ok := l.randomWaiting()
		if !ok {
			continue
		}
		l.mu.Lock()
		call := l.calls[l.channel[id]]
		l.mu.Unlock()
		if call != nil && call.Hangup(16) == nil {
			l.mu.Lock()
			l.rep.Hangups++
			l.mu.Unlock()
		}
	}
}

// progress prints a line a second and samples the history backlog.
func (l *load) progress(ctx context.Context, w io.Writer) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		text, err := getText(ctx, l.base+"/metrics")
		if err != nil {
			continue
		}
		backlog := int(metricSum(text, "callin_history_backlog", ""))
		l.mu.Lock()
		l.rep.BacklogMax = max(l.rep.BacklogMax, backlog)
		fmt.Fprintf(w, "loadtest: %4.0fs placed=%d admitted=%d waiting=%.0f on_air=%.0f backlog=%d promotes=%d drops=%d hangups=%d\n",
			time.Since(l.start).Seconds(), l.rep.Placed, l.rep.Admitted,
			metricSum(text, "callin_callers", `state="waiting"`), metricSum(text, "callin_callers", `state="on_air"`),
			backlog, l.rep.Promotes, l.rep.Drops, l.rep.Hangups)
		l.mu.Unlock()
	}
}

// track applies a transition seen on the tracking stream.
func (l *load) track(t queue.Transition, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen++
	select {
	case l.seenMore <- struct{}{}:
	default:
	}
	if t.Seq == 1 {
		l.channel[t.CallID] = t.ChannelID
	}
	if t.To == queue.StateWaiting && t.From == queue.StateArriving {
		l.rep.Admitted++
		l.rep.AdmitTime = now.Sub(l.start)
		if p, ok := l.placedAt[t.ChannelID]; ok {
			l.rep.AdmitLat.add(t.At.Sub(p))
		}
	}
	if t.To == queue.StateEnded && (t.From == queue.StateArriving || t.Seq == 1) {
		l.rep.Rejected++
	}
	if t.To == queue.StateOnAir {
		l.onAirAt[t.CallID] = t.At
	}
	if t.To == queue.StateWaiting {
		if _, ok := l.widx[t.CallID]; !ok {
			l.widx[t.CallID] = len(l.waiting)
			l.waiting = append(l.waiting, t.CallID)
		}
	} else if i, ok := l.widx[t.CallID]; ok {
		last := l.waiting[len(l.waiting)-1]
		l.waiting[i] = last
		l.widx[last] = i
		l.waiting = l.waiting[:len(l.waiting)-1]
		delete(l.widx, t.CallID)
	}
	if t.To == queue.StateEnded {
		delete(l.state, t.CallID)
		delete(l.calls, l.channel[t.CallID])
		delete(l.channel, t.CallID)
	} else {
		l.state[t.CallID] = t.To
	}
	if l.rep.Admitted+l.rep.Rejected == l.c.Callers {
		select {
		case <-l.admittedAll:
		default:
			close(l.admittedAll)
		}
	}
}

func (l *load) seenCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen
}

// apiStream reads the show's API event stream, measuring the delay from
// each transition's at to its receipt; the tracking stream also follows
// the callers. ready gets nil once the stream is open.
func (l *load) apiStream(ctx context.Context, tracking bool, ready chan<- error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/api/v1/shows/"+loadShow+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := http.DefaultClient.Do(req)
	if err == nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err = fmt.Errorf("loadtest: event stream: %s", resp.Status)
	}
	ready <- err
	if err != nil {
		return
	}
	defer resp.Body.Close()
	err = readSSE(resp.Body, func(name, data string) {
		if name != "transition" {
			return
		}
		now := time.Now()
		var t queue.Transition
		if json.Unmarshal([]byte(data), &t) != nil {
			return
		}
		l.rep.FanOut.add(now.Sub(t.At))
		if t.To == queue.StateOnAir {
			l.rep.FanOutOnAir.add(now.Sub(t.At))
		}
		if tracking {
			l.track(t, now)
		}
	})
	if !l.ended.Load() {
		l.mu.Lock()
		l.rep.APIKicked++
		l.mu.Unlock()
	}
}

var dataCall = regexp.MustCompile(`data-call="([^"]+)"`)

// consoleStream reads the console's live fragments and notes when each
// caller first appears in the on-air fragment.
func (l *load) consoleStream(ctx context.Context, jar http.CookieJar, ready chan<- error) {
	shown := map[string]time.Time{}
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/shows/"+loadShow+"/live", nil)
	resp, err := c.Do(req)
	if err == nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err = fmt.Errorf("loadtest: console stream: %s", resp.Status)
	}
	ready <- err
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_ = readSSE(resp.Body, func(name, data string) {
		if name != "onair" {
			return
		}
		now := time.Now()
		for _, m := range dataCall.FindAllStringSubmatch(data, -1) {
			if _, ok := shown[m[1]]; !ok {
				shown[m[1]] = now
			}
		}
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended.Load() {
		l.rep.ConsoleKicked++
	}
	l.shownAt = append(l.shownAt, shown)
}

// readSSE calls f for every event of an SSE stream until it ends.
func readSSE(r io.Reader, f func(name, data string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var name string
	var data strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if name != "" || data.Len() > 0 {
				f(name, data.String())
			}
			name = ""
			data.Reset()
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(line[len("data: "):])
		}
	}
}

// login logs the load test's producer in to the console.
func login(ctx context.Context, base string, jar http.CookieJar, password string) error {
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login",
		strings.NewReader(url.Values{"username": {"loadtest"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("loadtest: login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/login" {
		return fmt.Errorf("loadtest: login: %s at %s", resp.Status, resp.Request.URL.Path)
	}
	return nil
}

func getText(ctx context.Context, u string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// scrape reads one summed metric from /metrics (0 when unreadable).
func scrape(ctx context.Context, base, name, label string) float64 {
	text, err := getText(ctx, base+"/metrics")
	if err != nil {
		return 0
	}
	return metricSum(text, name, label)
}

// metricSum sums the samples of a metric in the Prometheus text format
// whose labels contain label.
func metricSum(text, name, label string) float64 {
	var sum float64
	for line := range strings.SplitSeq(text, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') || !strings.Contains(rest, label) {
			continue
		}
		if v, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fakeHeap measures the heap a fake Asterisk alone holds for n callers
// answered and in one holding bridge, with one events WebSocket reading.
func fakeHeap(ctx context.Context, n int) (uint64, error) {
	pbx := aritest.NewServer(aritest.Options{})
	defer pbx.Close()
	hdr := http.Header{}
	req, _ := http.NewRequest(http.MethodGet, pbx.URL(), nil)
	req.SetBasicAuth(pbx.User(), pbx.Password())
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	ws, _, err := websocket.Dial(ctx, pbx.WebSocketURL("callin"), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		return 0, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	go func() {
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	do := func(path string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, pbx.URL()+"/ari/"+path, nil)
		req.SetBasicAuth(pbx.User(), pbx.Password())
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: %s", path, resp.Status)
		}
		return nil
	}
	if err := do("bridges/hold?type=holding"); err != nil {
		return 0, err
	}
	before := liveHeap()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			id := fmt.Sprintf("load-%06d", i)
			if _, err := pbx.Call(gctx, aritest.CallOptions{Args: []string{loadShow}, ChannelID: id,
				Number: fmt.Sprintf("+1202%07d", i), Name: fmt.Sprintf("Load Caller %d", i)}); err != nil {
				return err
			}
			if err := do("channels/" + id + "/answer"); err != nil {
				return err
			}
			return do("bridges/hold/addChannel?channel=" + id)
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	after := liveHeap()
	if after < before {
		return 0, nil
	}
	return after - before, nil
}

// hist is a latency histogram with fixed buckets 2% wide from 1 µs to
// about 20 minutes, so recording never allocates.
type hist struct {
	mu     sync.Mutex
	counts [1100]uint32
	n      int
	max    time.Duration
}

const histGrowth = 1.02

func (h *hist) add(d time.Duration) {
	i := 0
	if d > time.Microsecond {
		i = min(int(math.Log(float64(d)/float64(time.Microsecond))/math.Log(histGrowth))+1, len(h.counts)-1)
	}
	h.mu.Lock()
	h.counts[i]++
	h.n++
	h.max = max(h.max, d)
	h.mu.Unlock()
}

// quantile is the upper bound of the bucket holding the q-th sample
// (within 2%), or 0 without samples.
func (h *hist) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(h.n)))
	seen := 0
	for i, c := range h.counts {
		if seen += int(c); seen >= max(rank, 1) {
			return min(time.Duration(float64(time.Microsecond)*math.Pow(histGrowth, float64(i))), h.max)
		}
	}
	return h.max
}

func (h *hist) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func (h *hist) String() string {
	if h.count() == 0 {
		return "none measured"
	}
	return fmt.Sprintf("p50 %s p99 %s max %s (n=%d)", ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(1)), h.count())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// consoleLatency matches each console's first sight of a caller on air
// with that caller's on_air transition.
func (r *loadReport) consoleLatency(onAirAt map[string]time.Time, shown []map[string]time.Time) {
	for _, m := range shown {
		for id, seen := range m {
			if at, ok := onAirAt[id]; ok {
				r.Console.add(seen.Sub(at))
			}
		}
	}
}

func (r *loadReport) print(w io.Writer, c loadConfig) {
	perCaller := func(b uint64, n int) string {
		if n == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f B", float64(b)/float64(n))
	}
	admitRate := 0.0
	if r.AdmitTime > 0 {
		admitRate = float64(r.Admitted) / r.AdmitTime.Seconds()
	}
	heap := uint64(0)
	if r.HeapAdmitted > r.HeapBase {
		heap = r.HeapAdmitted - r.HeapBase
	}
	written := "yes"
	// Everything seen on the stream is in PostgreSQL, and the stream saw
	// at least what the service had counted when the load ended.
	if r.Stored != r.Seen || r.Seen < r.Recorded {
		written = "NO"
	}
	fmt.Fprintf(w, "callin loadtest: %d callers at %g/s, %d API streams, %d console streams, a promote every %s, a hang-up every %s\n",
		c.Callers, c.Rate, c.Consoles, c.Browsers, c.PromoteEvery, c.HangupEvery)
	fmt.Fprintf(w, "admitted: %d/%d\n", r.Admitted, c.Callers)
	fmt.Fprintf(w, "turned away: %d\n", r.Rejected)
	fmt.Fprintf(w, "time to admit all: %.2fs\n", r.AdmitTime.Seconds())
	fmt.Fprintf(w, "admission rate: %.1f callers/s\n", admitRate)
	fmt.Fprintf(w, "admission latency: %s\n", r.AdmitLat)
	fmt.Fprintf(w, "promotes: %d ok, failed %v\n", r.Promotes, r.PromoteFailed)
	fmt.Fprintf(w, "promote latency: %s\n", r.Promote)
	fmt.Fprintf(w, "drop latency: %s (%d drops, %d hang-ups)\n", r.Drop, r.Drops, r.Hangups)
	fmt.Fprintf(w, "fan-out latency: %s\n", r.FanOut)
	fmt.Fprintf(w, "fan-out latency on_air: %s\n", r.FanOutOnAir)
	fmt.Fprintf(w, "console latency: %s\n", r.Console)
	fmt.Fprintf(w, "streams disconnected: %d API, %d console\n", r.APIKicked, r.ConsoleKicked)
	fmt.Fprintf(w, "history backlog: max %d, at end %d\n", r.BacklogMax, r.BacklogEnd)
	fmt.Fprintf(w, "transitions: %d recorded, %d seen, %d in call_events\n", r.Recorded, r.Seen, r.Stored)
	fmt.Fprintf(w, "all written: %s\n", written)
	fmt.Fprintf(w, "heap per live caller: %s (%d live callers when admission ended; fake Asterisk and load generator included)\n",
		perCaller(heap, r.LiveAtAdmit), r.LiveAtAdmit)
	if r.FakeMeasured {
		// The fake held Callers callers; scale to those live at admission.
		fake := uint64(float64(r.FakeHeap) * float64(r.LiveAtAdmit) / float64(c.Callers))
		svc := uint64(0)
		if heap > fake {
			svc = heap - fake
		}
		fmt.Fprintf(w, "fake Asterisk alone: %s per caller\n", perCaller(r.FakeHeap, c.Callers))
		fmt.Fprintf(w, "service heap per live caller: %s (estimate: the above minus the fake's)\n", perCaller(svc, r.LiveAtAdmit))
	}
	fmt.Fprintf(w, "cpu: %.2fs over %.1fs (%.0f%% of one core), %.2fms per caller\n", r.CPU.Seconds(), r.Wall.Seconds(),
		100*r.CPU.Seconds()/r.Wall.Seconds(), float64(r.CPU)/float64(time.Millisecond)/float64(max(c.Callers, 1)))
}
