package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// The real-PBX comparison of callin with a plain ARI application doing the
// same moves, in the same run, on the same Asterisk (issue 25, defects 1, 2
// and 5). BenchmarkPBXBurst reports the ratios; BENCHMARKS.md has the
// figures and the command.

// plainNumber is the number the plain application's callers dial: the same
// IVR prompts as callin's (answered by the dialplan, "press 1"), then
// Stasis(plain).
const plainNumber = "5559100"

// plainDialplan adds plainNumber to callin's inbound context (Asterisk
// merges a context defined twice).
const plainDialplan = `
[callin-inbound]
exten => 5559100,1,Goto(plain-ivr,s,1)

[plain-ivr]
exten => s,1,Answer()
 same => n,Set(TIMEOUT(response)=6)
 same => n,Background(callin-welcome&callin-press-1)
 same => n,WaitExten(6)
exten => 1,1,Stasis(plain,morning)
 same => n,Hangup()
`

// stamp is when Asterisk says an event happened and when it reached us.
type stamp struct{ ast, got time.Time }

// chanLog records, per channel, the events the comparison times: its
// StasisStart and its ChannelEnteredBridge events, and lets a test wait for
// a channel to enter a bridge.
type chanLog struct {
	mu       sync.Mutex
	start    map[string]stamp
	names    map[string]string // channel id -> name (for pbxtest.Hangup)
	hold     map[string]stamp  // first entry into a holding bridge
	enters   map[string][]chan stamp
	destroy  map[string]stamp
	ends     map[string]stamp           // StasisEnd
	waits    map[string][]chan struct{} // type/id -> waiting
	sent     map[string]time.Time       // first addChannel into a holding bridge sent
	creates  []time.Duration            // CreateBridge round trips
	subs     []time.Duration            // subscription requests' round trips
	subChans int                        // channels they named
	connects int                        // WebSocket connections (more than one: events were lost)
	prefix   string                     // holding bridges' id prefix
}

func newChanLog(holdPrefix string) *chanLog {
	return &chanLog{start: map[string]stamp{}, names: map[string]string{}, hold: map[string]stamp{},
		enters: map[string][]chan stamp{}, destroy: map[string]stamp{}, ends: map[string]stamp{}, waits: map[string][]chan struct{}{}, sent: map[string]time.Time{}, prefix: holdPrefix}
}

func (l *chanLog) tap(ev ari.Event) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	id := ari.ChannelID(ev)
	if pb := ari.PlaybackID(ev); pb != "" {
		id = pb
	}
	key := ev.EventType() + "/" + id
	for _, c := range l.waits[key] {
		close(c)
	}
	delete(l.waits, key)
	switch e := ev.(type) {
	case *ari.StasisStart:
		l.start[e.Channel.ID] = stamp{e.Timestamp.Time, now}
		l.names[e.Channel.ID] = e.Channel.Name
	case *ari.ChannelEnteredBridge:
		st := stamp{e.Timestamp.Time, now}
		id := e.Channel.ID
		if _, ok := l.hold[id]; !ok && strings.HasPrefix(e.Bridge.ID, l.prefix) {
			l.hold[id] = st
		}
		key := id + "@" + e.Bridge.ID
		for _, c := range l.enters[key] {
			c <- st
		}
		delete(l.enters, key)
	case *ari.ChannelDestroyed:
		l.destroy[e.Channel.ID] = stamp{e.Timestamp.Time, now}
	case *ari.StasisEnd:
		l.ends[e.Channel.ID] = stamp{e.Timestamp.Time, now}
	case *ari.Connected:
		l.connects++
	}
}

// expectEnter registers interest in a channel entering a bridge; call it
// before the request that moves it.
func (l *chanLog) expectEnter(chanID, bridgeID string) <-chan stamp {
	c := make(chan stamp, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	key := chanID + "@" + bridgeID
	l.enters[key] = append(l.enters[key], c)
	return c
}

// expectEvent registers interest in the next event of a type about a
// channel or playback id.
func (l *chanLog) expectEvent(typ, id string) <-chan struct{} {
	c := make(chan struct{})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits[typ+"/"+id] = append(l.waits[typ+"/"+id], c)
	return c
}

// admitted counts the channels that have entered a holding bridge.
func (l *chanLog) admitted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.hold)
}

// admissions returns StasisStart → in a holding bridge, by Asterisk's
// clock, for every admitted channel.
func (l *chanLog) admissions() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for id, h := range l.hold {
		if s, ok := l.start[id]; ok {
			out = append(out, h.ast.Sub(s.ast))
		}
	}
	return out
}

// tapped is callin's Telephony (a real *ari.Client) with its event stream
// passed through a chanLog on the way to the App.
type tapped struct {
	*ari.Client
	log *chanLog
}

// CreateBridge records how long callin's holding bridges took to create.
func (t *tapped) CreateBridge(ctx context.Context, bridgeID, bridgeType, name string) (*ari.Bridge, error) {
	t0 := time.Now()
	b, err := t.Client.CreateBridge(ctx, bridgeID, bridgeType, name)
	t.log.mu.Lock()
	t.log.creates = append(t.log.creates, time.Since(t0))
	t.log.mu.Unlock()
	return b, err
}

// Subscribe records how long callin's subscription requests took and how
// many channels each named.
func (t *tapped) Subscribe(ctx context.Context, sources ...string) error {
	t0 := time.Now()
	err := t.Client.Subscribe(ctx, sources...)
	t.log.mu.Lock()
	t.log.subs = append(t.log.subs, time.Since(t0))
	t.log.subChans += len(sources)
	t.log.mu.Unlock()
	return err
}

// AddChannel records when callin asks for a caller's first move into a
// holding bridge.
func (t *tapped) AddChannel(ctx context.Context, bridgeID string, p ari.AddChannelParams) error {
	if strings.HasPrefix(bridgeID, t.log.prefix) && len(p.Channels) == 1 {
		t.log.mu.Lock()
		if _, ok := t.log.sent[p.Channels[0]]; !ok {
			t.log.sent[p.Channels[0]] = time.Now()
		}
		t.log.mu.Unlock()
	}
	return t.Client.AddChannel(ctx, bridgeID, p)
}

func (t *tapped) Stream(ctx context.Context, opts ari.EventOptions) ari.EventStream {
	src := t.Client.Stream(ctx, opts)
	out := &tapStream{EventStream: src, ch: make(chan ari.Event, 1024)}
	go func() {
		defer close(out.ch)
		for ev := range src.Events() {
			t.log.tap(ev)
			out.ch <- ev
		}
	}()
	return out
}

type tapStream struct {
	ari.EventStream
	ch chan ari.Event
}

func (s *tapStream) Events() <-chan ari.Event { return s.ch }

// plainApp is the baseline: an ARI application written the plain way,
// doing what callin does for an arriving caller (answer if not up, put it
// in a holding bridge of 50, created when all are full, and POST /moh once
// it is in), with a pool of workers as callin has, and nothing else: no
// queue, no subscriptions, no history.
type plainApp struct {
	c    *ari.Client
	log  *chanLog
	jobs chan func(context.Context)

	mu      sync.Mutex
	bridges []*plainBridge
	members map[string]string // channel -> holding bridge
}

type plainBridge struct {
	id    string
	n     int
	ready chan struct{}
}

const plainHoldSize = 50

func startPlain(ctx context.Context, tb testing.TB, p *pbxtest.PBX) *plainApp {
	tb.Helper()
	c, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: "plain", Logger: quiet()})
	if err != nil {
		tb.Fatal(err)
	}
	a := &plainApp{c: c, log: newChanLog("plain-hold-"), jobs: make(chan func(context.Context), 8192), members: map[string]string{}}
	conn := c.Connect(ctx, ari.EventOptions{})
	connected := make(chan struct{})
	go func() {
		once := sync.OnceFunc(func() { close(connected) })
		for ev := range conn.Events() {
			a.log.tap(ev)
			switch e := ev.(type) {
			case *ari.Connected:
				once()
			case *ari.StasisStart:
				ch := e.Channel
				a.jobs <- func(ctx context.Context) { a.admit(ctx, ch) }
			}
		}
	}()
	for range 64 {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case job := <-a.jobs:
					job(ctx)
				}
			}
		}()
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		tb.Fatal("plain app: no connection")
	}
	return a
}

func (a *plainApp) admit(ctx context.Context, ch ari.Channel) {
	if ch.State != ari.StateUp {
		if err := a.c.AnswerChannel(ctx, ch.ID); err != nil {
			return
		}
	}
	a.mu.Lock()
	var b *plainBridge
	for _, x := range a.bridges {
		if x.n < plainHoldSize {
			b = x
			break
		}
	}
	create := b == nil
	if create {
		b = &plainBridge{id: fmt.Sprintf("plain-hold-%d", len(a.bridges)+1), ready: make(chan struct{})}
		a.bridges = append(a.bridges, b)
	}
	b.n++
	a.members[ch.ID] = b.id
	a.mu.Unlock()
	if create {
		_, _ = a.c.CreateBridge(ctx, b.id, ari.BridgeHolding, "plain")
		close(b.ready)
	}
	<-b.ready
	in := a.log.expectEnter(ch.ID, b.id)
	if err := a.c.AddChannel(ctx, b.id, ari.AddChannelParams{Channels: []string{ch.ID}}); err != nil {
		return
	}
	select {
	case <-in:
	case <-time.After(10 * time.Second):
		return
	}
	_ = a.c.StartBridgeMOH(ctx, b.id, "callin")
}

// quantile returns the q-quantile of ds (sorted in place).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q * float64(len(ds)-1))
	return ds[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// burstConfig sizes one comparison run.
type burstConfig struct {
	Callers  int     // callers for callin
	Plain    int     // callers for the plain app
	Rate     float64 // a second, each
	Promotes int     // promote/hold cycles, and as many raw moves there and back
	Drops    int     // drops with goodbye, and as many plain play-then-hangups
	Hangups  int     // callers of callin hanging up at once (a SIP BYE each), at the end
}

// burstResult is what one run measured.
type burstResult struct {
	callinAdmit, plainAdmit []time.Duration // StasisStart → in a holding bridge (Asterisk's clock)
	stages                  map[string][]time.Duration
	promoteIn, promoteResp  []time.Duration // request → EnteredBridge received; request → answer
	rawMove                 []time.Duration // addChannel sent → EnteredBridge received
	drop, plainDrop         []time.Duration // drop with goodbye → answered; plain: play, wait, hang up, StasisEnd
	goodbye                 time.Duration
	destroyLate             []time.Duration // StasisEnd → ChannelDestroyed of the callers hanging up at once
	noCause                 int             // of them, calls ended without a cause
	notEnded                int             // of them, calls not ended (the hang-up did not happen in time)
	noCauseStored           int             // of them, calls stored without a cause
}

// sinks hands every transition to each sink.
type sinks []broadcast.Sink

func (ss sinks) Record(t queue.Transition) {
	for _, s := range ss {
		s.Record(t)
	}
}

// runBurst starts a real Asterisk, callin's App and the plain app, sends
// both the same burst of SIP callers at the same time, and then promotes
// and moves callers the two ways, alternately.
func runBurst(tb testing.TB, cfg burstConfig) burstResult {
	tb.Helper()
	p := pbxtest.New(tb, pbxtest.Config{Extensions: plainDialplan})
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)

	const goodbye = 920 * time.Millisecond // vm-goodbye's length in the runs
	if err := p.Sound("bench-goodbye", 1400, goodbye); err != nil {
		tb.Fatal(err)
	}
	plain := startPlain(ctx, tb, p)

	clog := newChanLog("callin-morning-hold")
	// The transport ari.NewClient makes by default, counting its dials.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	var dials atomic.Int64
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	logger := quiet()
	if os.Getenv("CALLIN_BENCH_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	client, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: "callin", Logger: logger,
		HTTPClient: &http.Client{Timeout: ari.DefaultRequestTimeout, Transport: tr}})
	if err != nil {
		tb.Fatal(err)
	}
	sk := &sink{}
	// The history writer on a real PostgreSQL, as callin serve has it.
	store := pgtest.NewStore(tb)
	writer, err := postgres.StartWriter(store, postgres.WriterConfig{Journal: filepath.Join(tb.TempDir(), "journal")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = writer.Close(context.Background()) })
	sc := showCfg("morning", "n1")
	sc.MOHClass = "callin"
	sc.Media.Goodbye = []string{"sound:bench-goodbye"}
	app, err := broadcast.New(broadcast.Config{
		Nodes:  []broadcast.NodeConfig{{Name: "n1", ARI: &tapped{Client: client, log: clog}}},
		Shows:  []broadcast.ShowConfig{sc},
		Sink:   sinks{sk, writer},
		Logger: logger,
	})
	if err != nil {
		tb.Fatal(err)
	}
	w := watch(tb, app, "morning")
	done := make(chan struct{})
	go func() { defer close(done); _ = app.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	w.nodeUp()
	w.sub.Close() // not read from here on

	// The burst: both sets of callers at once, at the same rate.
	p.Callers(tb, pbxtest.CallerConfig{Number: "5550100", Count: cfg.Callers, Rate: cfg.Rate, PressOne: true, Prefix: "1555"})
	p.Callers(tb, pbxtest.CallerConfig{Number: plainNumber, Count: cfg.Plain, Rate: cfg.Rate * float64(cfg.Plain) / float64(cfg.Callers), PressOne: true, Prefix: "1666"})
	deadline := time.Now().Add(time.Duration(float64(cfg.Callers)/cfg.Rate*float64(time.Second)) + 60*time.Second)
	// An overloaded sipp aborts a call now and then ("unexpected message"):
	// a run that stops short by at most 2 % after 10 s without progress
	// goes on with the callers it has, and says so.
	progress, last := time.Now(), 0
	for clog.admitted() < cfg.Callers || plain.log.admitted() < cfg.Plain {
		if n := clog.admitted() + plain.log.admitted(); n != last {
			progress, last = time.Now(), n
		}
		if time.Since(progress) > 10*time.Second && clog.admitted() >= cfg.Callers*98/100 && plain.log.admitted() >= cfg.Plain*98/100 {
			fmt.Printf("going on with callin %d of %d, plain %d of %d admitted (sipp lost the others)\n", clog.admitted(), cfg.Callers, plain.log.admitted(), cfg.Plain)
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("admitted: callin %d of %d, plain %d of %d", clog.admitted(), cfg.Callers, plain.log.admitted(), cfg.Plain)
		}
		time.Sleep(100 * time.Millisecond) // polling a count the events fill; the deadline bounds it
	}
	clog.mu.Lock()
	fmt.Printf("callin's REST connections opened during the burst: %d; bridges created in %v; %d subscription requests for %d channels, p50 %.1f ms, max %.1f ms\n",
		dials.Load(), clog.creates, len(clog.subs), clog.subChans, ms(quantile(clog.subs, 0.5)), ms(quantile(clog.subs, 1)))
	clog.mu.Unlock()

	res := burstResult{callinAdmit: clog.admissions(), plainAdmit: plain.log.admissions(), stages: map[string][]time.Duration{}, goodbye: goodbye}
	for _, l := range []struct {
		name string
		log  *chanLog
	}{{"callin", clog}, {"plain", plain.log}} {
		// The same span by this process's clock (Asterisk's has 1 ms steps).
		k := l.name + " StasisStart → EnteredBridge, received"
		l.log.mu.Lock()
		for id, st := range l.log.start {
			if h, ok := l.log.hold[id]; ok {
				res.stages[k] = append(res.stages[k], h.got.Sub(st.got))
			}
		}
		l.log.mu.Unlock()
	}
	plain.log.mu.Lock()
	for id, st := range plain.log.start {
		res.stages["plain StasisStart→received"] = append(res.stages["plain StasisStart→received"], st.got.Sub(st.ast))
		if h, ok := plain.log.hold[id]; ok {
			res.stages["plain EnteredBridge→received"] = append(res.stages["plain EnteredBridge→received"], h.got.Sub(h.ast))
		}
	}
	plain.log.mu.Unlock()

	// callin's own stages, from its transitions' times.
	byChan := map[string]map[string]time.Time{}
	callOf := map[string]string{}
	for _, t := range sk.all() {
		if byChan[t.ChannelID] == nil {
			byChan[t.ChannelID] = map[string]time.Time{}
		}
		byChan[t.ChannelID][t.Action] = t.At
		callOf[t.ChannelID] = t.CallID
	}
	clog.mu.Lock()
	for id, st := range clog.start {
		tr, h := byChan[id], clog.hold[id]
		if tr == nil || h.ast.IsZero() {
			continue
		}
		res.stages["callin StasisStart→received"] = append(res.stages["callin StasisStart→received"], st.got.Sub(st.ast))
		res.stages["callin received→arrive"] = append(res.stages["callin received→arrive"], tr[queue.ActionArrive].Sub(st.got))
		res.stages["callin arrive→addChannel sent"] = append(res.stages["callin arrive→addChannel sent"], clog.sent[id].Sub(tr[queue.ActionArrive]))
		res.stages["callin addChannel sent→EnteredBridge"] = append(res.stages["callin addChannel sent→EnteredBridge"], h.ast.Sub(clog.sent[id]))
		res.stages["callin EnteredBridge→received"] = append(res.stages["callin EnteredBridge→received"], h.got.Sub(h.ast))
		res.stages["callin received→join"] = append(res.stages["callin received→join"], tr[queue.ActionJoin].Sub(h.got))
	}
	clog.mu.Unlock()

	// Promotes against raw moves, alternately, with everyone waiting.
	plainAir := "plain-air"
	if _, err := plain.c.CreateBridge(ctx, plainAir, ari.BridgeMixing, "plain"); err != nil {
		tb.Fatal(err)
	}
	var callinChans, plainChans []string
	clog.mu.Lock()
	for id := range clog.hold {
		callinChans = append(callinChans, id)
	}
	clog.mu.Unlock()
	plain.mu.Lock()
	for id := range plain.members {
		plainChans = append(plainChans, id)
	}
	plain.mu.Unlock()
	slices.Sort(callinChans)
	slices.Sort(plainChans)
	waitIn := func(c <-chan stamp) stamp {
		select {
		case st := <-c:
			return st
		case <-time.After(10 * time.Second):
			tb.Fatal("no ChannelEnteredBridge")
		}
		return stamp{}
	}
	left := func(l *chanLog, id string) bool { // a caller sipp lost
		l.mu.Lock()
		defer l.mu.Unlock()
		_, ok := l.ends[id]
		return ok
	}
	for i := range cfg.Promotes {
		ch := callinChans[i%len(callinChans)]
		pc := plainChans[i%len(plainChans)]
		if left(clog, ch) || left(plain.log, pc) {
			continue
		}
		id := callOf[ch]
		in := clog.expectEnter(ch, "callin-morning-air")
		t0 := time.Now()
		if _, err := app.Promote(ctx, "morning", id, producer); errors.Is(err, queue.ErrGone) {
			continue
		} else if err != nil {
			tb.Fatalf("promote: %v", err)
		}
		res.promoteResp = append(res.promoteResp, time.Since(t0))
		res.promoteIn = append(res.promoteIn, waitIn(in).got.Sub(t0))
		if _, err := app.Hold(ctx, "morning", id, producer); err != nil && !errors.Is(err, queue.ErrGone) {
			tb.Fatalf("hold: %v", err)
		}

		plain.mu.Lock()
		home := plain.members[pc]
		plain.mu.Unlock()
		in = plain.log.expectEnter(pc, plainAir)
		t0 = time.Now()
		if err := plain.c.AddChannel(ctx, plainAir, ari.AddChannelParams{Channels: []string{pc}}); err != nil {
			tb.Fatal(err)
		}
		res.rawMove = append(res.rawMove, waitIn(in).got.Sub(t0))
		back := plain.log.expectEnter(pc, home)
		if err := plain.c.AddChannel(ctx, home, ari.AddChannelParams{Channels: []string{pc}}); err != nil {
			tb.Fatal(err)
		}
		waitIn(back)
		_ = plain.c.StartBridgeMOH(ctx, home, "callin")
	}

	// Drops with goodbye against the plain play, wait, hang up.
	for i := range cfg.Drops {
		ch, pc := callinChans[len(callinChans)-1-i], plainChans[len(plainChans)-1-i]
		if left(clog, ch) || left(plain.log, pc) {
			continue
		}
		t0 := time.Now()
		if _, err := app.Drop(ctx, "morning", callOf[ch], producer, broadcast.DropOptions{Goodbye: true}); errors.Is(err, queue.ErrGone) {
			continue
		} else if err != nil {
			tb.Fatalf("drop: %v", err)
		}
		res.drop = append(res.drop, time.Since(t0))
		res.plainDrop = append(res.plainDrop, plain.dropWithGoodbye(ctx, tb, pc))
	}
	// Many hang up at once: every call must end with its cause.
	var gone []string
	for i := range min(cfg.Hangups, len(callinChans)-cfg.Promotes-cfg.Drops) {
		if ch := callinChans[cfg.Promotes+i]; !left(clog, ch) {
			gone = append(gone, ch)
		}
	}
	// Each hang-up is an `asterisk -rx` process: 8 at a time, so that the
	// harness does not starve the machine (100 at once took the load
	// average to 99 and callin's WebSocket with it).
	var wg sync.WaitGroup
	slot := make(chan struct{}, 8)
	for _, ch := range gone {
		clog.mu.Lock()
		name := clog.names[ch]
		clog.mu.Unlock()
		slot <- struct{}{}
		wg.Go(func() {
			defer func() { <-slot }()
			if err := p.Hangup(ctx, name); err != nil {
				tb.Error(err)
			}
		})
	}
	wg.Wait()
	deadline = time.Now().Add(30 * time.Second)
	for {
		clog.mu.Lock()
		n := 0
		for _, ch := range gone {
			if _, ok := clog.destroy[ch]; ok {
				n++
			}
		}
		clog.mu.Unlock()
		if n == len(gone) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling counts the events fill; the deadline bounds it
	}
	// The last cause each call has, once callin had its ChannelDestroyed
	// and a moment to record it.
	time.Sleep(200 * time.Millisecond)
	cause := map[string]int{}
	ended := map[string]bool{}
	for _, t := range sk.all() {
		if t.To == queue.StateEnded {
			ended[t.ChannelID] = true
			cause[t.ChannelID] = t.Cause
		}
	}
	// And what the history keeps.
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	defer fcancel()
	if err := writer.Flush(fctx); err != nil {
		tb.Fatal(err)
	}
	for _, ch := range gone {
		if !ended[ch] {
			continue
		}
		var c int
		if err := store.Pool().QueryRow(ctx, `SELECT coalesce(hangup_cause, 0) FROM calls WHERE id = $1`, callOf[ch]).Scan(&c); err != nil || c == 0 {
			res.noCauseStored++
		}
	}
	clog.mu.Lock()
	fmt.Printf("callin's WebSocket connected %d times, the plain app's %d; Asterisk's warnings: %d taskprocessor, %d WebSocket\n",
		clog.connects, plain.log.connects, len(p.LogLines("taskprocessor")), len(p.LogLines("ebSocket")))
	for _, l := range p.LogLines("ebSocket") {
		fmt.Println("  ", l)
	}
	for _, ch := range gone {
		if d, ok := clog.destroy[ch]; ok && !clog.ends[ch].got.IsZero() {
			res.destroyLate = append(res.destroyLate, d.got.Sub(clog.ends[ch].got))
		}
		switch {
		case !ended[ch]:
			res.notEnded++ // its BYE never reached Asterisk in time: not callin's to count
		case cause[ch] == 0:
			res.noCause++
		}
	}
	clog.mu.Unlock()
	return res
}

// dropWithGoodbye is the plain way: play, wait for PlaybackFinished, hang
// up, wait for StasisEnd.
func (a *plainApp) dropWithGoodbye(ctx context.Context, tb testing.TB, chanID string) time.Duration {
	tb.Helper()
	pb := fmt.Sprintf("plain-pb-%s", chanID)
	fin := a.log.expectEvent(ari.TypePlaybackFinished, pb)
	end := a.log.expectEvent(ari.TypeStasisEnd, chanID)
	t0 := time.Now()
	if _, err := a.c.PlayChannel(ctx, chanID, pb, "sound:bench-goodbye"); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-fin:
	case <-time.After(10 * time.Second):
		tb.Fatal("plain: no PlaybackFinished")
	}
	if err := a.c.HangupChannel(ctx, chanID, ari.HangupNormal); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-end:
	case <-time.After(10 * time.Second):
		tb.Fatal("plain: no StasisEnd")
	}
	return time.Since(t0)
}

// BenchmarkPBXBurst compares callin with the plain app on a real Asterisk,
// in the same run: a burst of SIP callers for each at the same time
// (StasisStart → in a holding bridge, by Asterisk's event times), then
// promotes against raw addChannel moves out of a 50-member bridge, then
// drops with goodbye against the plain play-wait-hang-up. Each iteration is
// a fresh Asterisk; run it with -benchtime 1x (see BENCHMARKS.md). Sizes:
// PBX_CALLERS for callin (default 150), PBX_PLAIN for the plain app
// (default as many), PBX_RATE a second each (default 50), PBX_PROMOTES
// (default 60), PBX_HANGUPS (default 80, at most callers - promotes - 5).
func BenchmarkPBXBurst(b *testing.B) {
	callers := envInt("PBX_CALLERS", 150)
	cfg := burstConfig{Callers: callers, Plain: envInt("PBX_PLAIN", callers), Rate: float64(envInt("PBX_RATE", 50)), Promotes: envInt("PBX_PROMOTES", 60), Drops: 5, Hangups: envInt("PBX_HANGUPS", 80)}
	var all burstResult
	all.stages = map[string][]time.Duration{}
	for range b.N {
		r := runBurst(b, cfg)
		all.callinAdmit = append(all.callinAdmit, r.callinAdmit...)
		all.plainAdmit = append(all.plainAdmit, r.plainAdmit...)
		for k, v := range r.stages {
			all.stages[k] = append(all.stages[k], v...)
		}
		all.promoteIn = append(all.promoteIn, r.promoteIn...)
		all.promoteResp = append(all.promoteResp, r.promoteResp...)
		all.rawMove = append(all.rawMove, r.rawMove...)
		all.drop = append(all.drop, r.drop...)
		all.plainDrop = append(all.plainDrop, r.plainDrop...)
		all.goodbye = r.goodbye
		all.destroyLate = append(all.destroyLate, r.destroyLate...)
		all.noCause += r.noCause
		all.notEnded += r.notEnded
		all.noCauseStored += r.noCauseStored
	}
	report := func(name string, ds []time.Duration) (p50, p99 time.Duration) {
		p50, p99 = quantile(ds, 0.5), quantile(ds, 0.99)
		fmt.Printf("%-38s n=%4d p50 %8.1f ms  p99 %8.1f ms  max %8.1f ms\n", name, len(ds), ms(p50), ms(p99), ms(quantile(ds, 1)))
		return p50, p99
	}
	c50, c99 := report("callin admission", all.callinAdmit)
	p50, p99 := report("plain admission", all.plainAdmit)
	for _, k := range []string{"callin StasisStart→received", "callin received→arrive", "callin arrive→addChannel sent", "callin addChannel sent→EnteredBridge", "callin EnteredBridge→received", "callin received→join", "plain StasisStart→received", "plain EnteredBridge→received",
		"callin StasisStart → EnteredBridge, received", "plain StasisStart → EnteredBridge, received"} {
		report("  "+k, all.stages[k])
	}
	pi50, _ := report("promote → in air bridge", all.promoteIn)
	pr50, _ := report("promote → answer", all.promoteResp)
	rm50, _ := report("raw addChannel → in", all.rawMove)
	d50, _ := report("drop with goodbye", all.drop)
	pd50, _ := report("plain play+hangup", all.plainDrop)
	b.ReportMetric(ms(c50), "callin-admit-p50-ms")
	b.ReportMetric(ms(c99), "callin-admit-p99-ms")
	b.ReportMetric(ms(p50), "plain-admit-p50-ms")
	b.ReportMetric(ms(p99), "plain-admit-p99-ms")
	b.ReportMetric(ms(c50)/max(ms(p50), 1), "admit-p50-ratio")
	b.ReportMetric(ms(c99)/max(ms(p99), 1), "admit-p99-ratio")
	b.ReportMetric(ms(pi50), "promote-in-p50-ms")
	b.ReportMetric(ms(pr50), "promote-answer-p50-ms")
	b.ReportMetric(ms(rm50), "raw-move-p50-ms")
	b.ReportMetric(ms(pi50)/ms(rm50), "promote-in/raw-ratio")
	b.ReportMetric(ms(pr50)/ms(rm50), "promote-answer/raw-ratio")
	b.ReportMetric(ms(d50), "drop-goodbye-p50-ms")
	b.ReportMetric(ms(d50)/ms(pd50), "drop/plain-ratio")
	report("StasisEnd→ChannelDestroyed", all.destroyLate)
	fmt.Printf("of %d callers hanging up at once, %d not ended in 30 s; of the others %d ended without a cause, %d stored without one\n",
		cfg.Hangups*b.N, all.notEnded, all.noCause, all.noCauseStored)
	b.ReportMetric(float64(all.noCause), "causes-lost")
	b.ReportMetric(ms(quantile(all.destroyLate, 1)), "destroyed-late-max-ms")
	b.ReportMetric(0, "ns/op")
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err == nil && v > 0 {
		return v
	}
	return def
}
