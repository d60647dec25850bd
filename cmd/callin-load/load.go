package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgcluster"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// loadShow is the show the load runs.
const loadShow = "loadtest"

// runLoad starts a database (unless given), the fake Asterisk and the
// service, drives the load, and measures.
func runLoad(ctx context.Context, c config, log *slog.Logger, progress io.Writer) (*report, error) {
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
			return nil, fmt.Errorf("start PostgreSQL (or pass --database-url): %w", err)
		}
		defer cluster.Stop()
		dbURL = cluster.URL()
	}
	password, token, err := addProducer(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	// The fake alone first, in a process that holds nothing else yet.
	var fake uint64
	if c.FakeAlone {
		if fake, err = fakeHeap(ctx, c.Callers); err != nil {
			return nil, fmt.Errorf("measure the fake alone: %w", err)
		}
	}

	pbx := aritest.NewServer(aritest.Options{})
	defer pbx.Close()
	show := broadcast.ShowConfig{Config: queue.Config{Key: loadShow, Title: "Load test", Node: "load", LinesOpen: true,
		Capacity: c.Callers + 100, MaxOnAir: c.MaxOnAir, MOHClass: "callin"}, HoldBridgeSize: c.HoldSize}
	svc, err := startService(ctx, dbURL, filepath.Join(dir, "history.journal"), show, pbx, log)
	if err != nil {
		return nil, fmt.Errorf("the service did not start: %w", err)
	}
	defer svc.stop()
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		return nil, err
	}

	l := newLoad(c, pbx, svc, token)
	l.rep.FakeHeap, l.rep.FakeMeasured = fake, c.FakeAlone
	closeStreams, err := l.openStreams(ctx, password)
	if err != nil {
		return nil, err
	}
	defer closeStreams()
	if err := l.measure(ctx, progress); err != nil {
		return nil, err
	}
	// Shut the service down (the history writer flushes), then count what
	// reached PostgreSQL.
	l.ended.Store(true)
	if err := svc.stop(); err != nil {
		return nil, fmt.Errorf("the service ended with %w", err)
	}
	closeStreams()
	l.mu.Lock()
	l.rep.Seen = l.seen
	l.rep.consoleLatency(l.onAirAt, l.shownAt)
	l.mu.Unlock()
	if l.rep.Stored, err = countStored(ctx, dbURL, l.start); err != nil {
		return nil, fmt.Errorf("count call_events: %w", err)
	}
	return l.rep, nil
}

// addProducer creates the load's producer: a password for the console, a
// token for the API.
func addProducer(ctx context.Context, dbURL string) (password, token string, err error) {
	store, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return "", "", err
	}
	defer store.Close()
	if err := postgres.Migrate(ctx, store.Pool()); err != nil {
		return "", "", err
	}
	password = rand.Text()
	err = auth.AddUser(ctx, store, "loadtest", auth.RoleProducer, password)
	if errors.Is(err, queue.ErrConflict) {
		err = auth.SetPassword(ctx, store, "loadtest", password)
	}
	if err != nil {
		return "", "", err
	}
	token, err = auth.CreateToken(ctx, store, "loadtest-"+rand.Text()[:8], auth.RoleProducer, "loadtest")
	return password, token, err
}

// countStored counts the load's transitions in call_events.
func countStored(ctx context.Context, dbURL string, since time.Time) (int, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM call_events WHERE show = $1 AND at >= $2`, loadShow, since.Add(-time.Second)).Scan(&n)
	return n, err
}

// openStreams opens Consoles API event streams (the first one tracks the
// callers) and Browsers console streams of the logged-in producer, each
// one open before it returns. closeStreams ends them and waits for them.
func (l *load) openStreams(ctx context.Context, password string) (closeStreams func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	closeStreams = sync.OnceFunc(func() {
		cancel()
		wg.Wait()
	})
	open := func(stream func(ready chan<- error)) error {
		ready := make(chan error, 1)
		wg.Go(func() { stream(ready) })
		return <-ready
	}
	defer func() {
		if err != nil {
			closeStreams()
		}
	}()
	for i := range l.c.Consoles {
		if err := open(func(ready chan<- error) { l.apiStream(ctx, i == 0, ready) }); err != nil {
			return nil, err
		}
	}
	if l.c.Browsers == 0 {
		return closeStreams, nil
	}
	jar, _ := cookiejar.New(nil)
	if err := login(ctx, l.base, jar, password); err != nil {
		return nil, err
	}
	for range l.c.Browsers {
		if err := open(func(ready chan<- error) { l.consoleStream(ctx, jar, ready) }); err != nil {
			return nil, err
		}
	}
	return closeStreams, nil
}

// measure runs the load and takes the measurements of the loaded period:
// heap, CPU (and its profile), and the counts once the streams caught up.
func (l *load) measure(ctx context.Context, progress io.Writer) error {
	l.rep.HeapBase = liveHeap()
	if l.c.CPUProfile != "" {
		f, err := os.Create(l.c.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	l.ari0 = l.svc.ariStats()
	l.cpu0 = cpuTime()
	l.start = time.Now()
	if err := l.drive(ctx, progress); err != nil {
		return err
	}
	if err := l.catchUp(ctx, progress); err != nil {
		return err
	}
	l.rep.BacklogEnd = l.svc.backlog()
	l.rep.CPU = cpuTime() - l.cpu0
	l.rep.ARI = l.svc.ariStats().since(l.ari0)
	l.rep.Wall = time.Since(l.start)
	l.rep.Goroutines = runtime.NumGoroutine()
	return nil
}

// drive runs the arrivals, the producer, the hang-ups and the progress
// lines until every caller is admitted and Cycles promote/drop cycles have
// passed, or for Duration at most.
func (l *load) drive(ctx context.Context, progress io.Writer) error {
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	g, gctx := errgroup.WithContext(loadCtx)
	g.Go(func() error { return l.arrivals(gctx) })
	g.Go(func() error { return l.producer(gctx) })
	g.Go(func() error { return l.hangups(gctx) })
	g.Go(func() error { return l.progress(gctx, progress) })
	l.waitDone(ctx, progress)
	stopLoad()
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// waitDone waits until every caller is admitted (then measures the heap)
// and the cycles are done, or Duration has passed.
func (l *load) waitDone(ctx context.Context, progress io.Writer) {
	deadline := time.NewTimer(l.c.Duration)
	defer deadline.Stop()
	select {
	case <-l.admittedAll:
	case <-deadline.C:
		fmt.Fprintln(progress, "callin-load: --duration reached before every caller was admitted")
		l.admissionEnded(time.Now())
		return
	case <-ctx.Done():
		return
	}
	_, _, l.rep.HoldBridges = l.svc.callers(loadShow)
	l.rep.HeapAdmitted = liveHeap()
	l.mu.Lock()
	l.rep.LiveAtAdmit = len(l.state)
	l.mu.Unlock()
	select {
	case <-l.cyclesDone:
	case <-deadline.C:
		fmt.Fprintln(progress, "callin-load: --duration reached before the promote/drop cycles ended")
	case <-ctx.Done():
	}
}

// catchUp waits, once the load has stopped, for the tracking stream to see
// every transition the service counted. A call's last events (a drop's
// ChannelDestroyed) may still be on their way when the load stops: it reads
// the counter again until it holds still once the stream has caught up.
func (l *load) catchUp(ctx context.Context, progress io.Writer) error {
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for prev := -1; ; {
		l.rep.Recorded = int(l.svc.recorded.Load())
		if l.rep.Recorded == prev {
			return nil
		}
		prev = l.rep.Recorded
		for l.seenCount() < l.rep.Recorded {
			select {
			case <-l.seenMore:
			case <-timeout.C:
				fmt.Fprintf(progress, "callin-load: the tracking stream saw %d of %d transitions\n", l.seenCount(), l.rep.Recorded)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		select { // a short pause for stragglers between the two reads
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// load is the state of one run: the callers placed, what the tracking
// stream saw, and the measurements.
type load struct {
	c     config
	pbx   *aritest.Server
	svc   *service
	base  string // the service's URL
	token string
	http  *http.Client
	start time.Time
	rep   *report

	// At the start of the loaded period: what the node's event connection
	// had received, and the CPU time used.
	ari0      ariStats
	cpu0      time.Duration
	admitOnce sync.Once

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

func newLoad(c config, pbx *aritest.Server, svc *service, token string) *load {
	// Maps are sized up front so the heap measured after admission does not
	// count their growth as the service's.
	n := c.Callers
	return &load{c: c, pbx: pbx, svc: svc, base: svc.base, token: token,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		rep: &report{AdmitLat: &hist{}, Promote: &hist{}, Drop: &hist{}, FanOut: &hist{}, FanOutOnAir: &hist{},
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
		backlog := l.svc.backlog()
		waiting, onAir, bridges := l.svc.callers(loadShow)
		l.mu.Lock()
		l.rep.BacklogMax = max(l.rep.BacklogMax, backlog)
		fmt.Fprintf(w, "callin-load: %4.0fs placed=%d admitted=%d waiting=%d on_air=%d bridges=%d backlog=%d promotes=%d drops=%d hangups=%d\n",
			time.Since(l.start).Seconds(), l.rep.Placed, l.rep.Admitted, waiting, onAir, bridges,
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
			l.admissionEnded(now)
			close(l.admittedAll)
		}
	}
}

// admissionEnded takes, once, the measurements of the admission period:
// what the node's event connection received and the CPU time used since
// the load started. It runs when the last caller's admission is seen (or
// when --duration ends the run before that).
func (l *load) admissionEnded(now time.Time) {
	l.admitOnce.Do(func() {
		l.rep.ARIAdmit = l.svc.ariStats().since(l.ari0)
		l.rep.CPUAdmit = cpuTime() - l.cpu0
		l.rep.WallAdmit = now.Sub(l.start)
	})
}

func (l *load) seenCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen
}
