package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// Telephony is what the App asks of one Asterisk node; *ari.Client
// satisfies it. Every method sends one ARI request and returns *ari.Error
// for an HTTP error status (errors.Is with ari.ErrNotFound, ErrConflict,
// ErrInvalid, ...); the status differs by operation for the same cause (a
// channel that left Stasis is 404 on most, 400/422 on addChannel, 409 on
// answer and play: trace 05).
type Telephony interface {
	// Stream starts the node's ordered event stream (see ari.Client.Connect):
	// GET /events as a WebSocket, reconnected until ctx ends.
	Stream(ctx context.Context, opts ari.EventOptions) ari.EventStream

	// AnswerChannel is POST /channels/{id}/answer.
	AnswerChannel(ctx context.Context, channelID string) error
	// HangupChannel is DELETE /channels/{id}?reason=.
	HangupChannel(ctx context.Context, channelID, reason string) error
	// PlayChannel is POST /channels/{id}/play/{playbackID}; the playback
	// ends with PlaybackFinished, or never for an unsupported media.
	PlayChannel(ctx context.Context, channelID, playbackID string, media ...string) (*ari.Playback, error)
	// StopPlayback is DELETE /playbacks/{id}.
	StopPlayback(ctx context.Context, playbackID string) error
	// MuteChannel is POST /channels/{id}/mute?direction=.
	MuteChannel(ctx context.Context, channelID, dir string) error
	// UnmuteChannel is DELETE /channels/{id}/mute?direction=.
	UnmuteChannel(ctx context.Context, channelID, dir string) error
	// SetChannelVar is POST /channels/{id}/variable (TALK_DETECT(set), ...).
	SetChannelVar(ctx context.Context, channelID, name, value string) error
	// Originate is POST /channels: a call into the app (screener, host and
	// talkback lines), which gets the channel's events from its creation.
	Originate(ctx context.Context, p ari.OriginateParams) (*ari.Channel, error)
	// ListChannels is GET /channels.
	ListChannels(ctx context.Context) ([]ari.Channel, error)
	// Subscribe subscribes our app to event sources such as "channel:ID":
	// POST /applications/{app}/subscription (its answer is not read).
	Subscribe(ctx context.Context, eventSources ...string) error
	// RTPStatistics is GET /channels/{id}/rtp_statistics; 403 for a
	// channel without RTP (a Local channel, trace 16).
	RTPStatistics(ctx context.Context, channelID string) (*ari.RTPStats, error)

	// CreateBridge is POST /bridges/{id}; 409 when it exists.
	CreateBridge(ctx context.Context, bridgeID, bridgeType, name string) (*ari.Bridge, error)
	// ListBridges is GET /bridges.
	ListBridges(ctx context.Context) ([]ari.Bridge, error)
	// GetBridge is GET /bridges/{id}: its members now (the talkback checks
	// that an announcer it added was not refused, trace 19r).
	GetBridge(ctx context.Context, bridgeID string) (*ari.Bridge, error)
	// DestroyBridge is DELETE /bridges/{id}; its members stay in Stasis.
	DestroyBridge(ctx context.Context, bridgeID string) error
	// AddChannel is POST /bridges/{id}/addChannel: a channel in another
	// bridge is moved (Left, then Entered: trace 02).
	AddChannel(ctx context.Context, bridgeID string, p ari.AddChannelParams) error
	// StartBridgeMOH is POST /bridges/{id}/moh, idempotent (trace 12).
	StartBridgeMOH(ctx context.Context, bridgeID, class string) error
	// StopBridgeMOH is DELETE /bridges/{id}/moh; 409 when none plays.
	StopBridgeMOH(ctx context.Context, bridgeID string) error
	// PlayBridge is POST /bridges/{id}/play/{playbackID}; with music on
	// it "succeeds" and fails at once (trace 15): stop the music first.
	PlayBridge(ctx context.Context, bridgeID, playbackID string, media ...string) (*ari.Playback, error)
	// RecordBridge is POST /bridges/{id}/record; always with a format
	// (without one, Asterisk 22.10.1 crashed: trace 14).
	RecordBridge(ctx context.Context, bridgeID string, p ari.RecordParams) (*ari.LiveRecording, error)
	// StopLiveRecording is POST /recordings/live/{name}/stop.
	StopLiveRecording(ctx context.Context, name string) error
	// SetGlobalVar is POST /asterisk/variable: a dialplan global variable
	// ("" clears it), lost when Asterisk restarts (room.go).
	SetGlobalVar(ctx context.Context, name, value string) error
}

// Sink receives every transition, in order per call. Record must never
// block (the history writer buffers and spills by itself).
type Sink interface {
	Record(t queue.Transition)
}

// Blocklist answers whether a number is blocked, from memory: the call path
// never waits on a database. MemoryBlocklist is one.
type Blocklist interface {
	IsBlocked(number string) (blocked bool, reason string)
}

// Recall gives the stored open calls of a show, so that a restarted service
// readmits callers with their call id, arrival time and last Seq. Errors are
// logged and the readmission falls back (see the package doc).
type Recall interface {
	OpenCalls(ctx context.Context, show string) ([]queue.Stored, error)
}

// Phones gives the phone of a person who screens (or hosts, or talks
// back): an Asterisk endpoint such as "PJSIP/screener1". The call path never
// waits on a database: answer from memory.
type Phones interface {
	Phone(user string) (endpoint string, ok bool)
}

// Recordings receives every finished recording of the on-air bridge (its
// name, times, the calls on air), to keep them findable. Recorded must not
// block.
type Recordings interface {
	Recorded(show string, r RecordingState)
}

// NodeConfig is one Asterisk node.
type NodeConfig struct {
	Name string    // the node's name, as in queue.Config.Node
	ARI  Telephony // usually an *ari.Client
	// Events tunes the event connection; zero fields take ari's defaults.
	Events ari.EventOptions
	// Capacity is how many callers the node is meant to hold, over all
	// its shows (0: no limit), reported with its load (App.NodeLoads,
	// Snapshot.Nodes). Reached, callin sets CALLIN_FULL_<show>=1 there for
	// each of its shows and the dialplan refuses new callers with 503 so
	// that the SIP front tries another node (room.go).
	Capacity int
	// Claim, when set, makes this instance one of several that may drive
	// the node, one at a time: it blocks until this instance may (the
	// node is NodeStandby meanwhile) and returns a channel closed when it
	// may no longer, and a release for when it stops. Nil: the node is
	// this instance's alone.
	Claim func(ctx context.Context) (lost <-chan struct{}, release func(), err error)
}

// Media are the prompts a show plays. Empty fields take the defaults of
// DefaultMedia.
type Media struct {
	Closed   []string // lines closed
	Full     []string // queue full
	Blocked  []string // number blocked
	Goodbye  []string // played before a Drop with goodbye
	Position []string // played before "number:<position>"; may be empty

	CallbackOffer   []string // after the position: "press 2 and we'll call you back"
	CallbackConfirm []string // "we will call you back on the number you are calling from"
	CallbackReturn  []string // to the called-back caller: "this is the show, press 1"
	ReadyCheck      []string // to the caller picked next: "you are next, press 1 when ready"
	WaitAbout       []string // before "number:<minutes>" and "sound:minutes": "your wait is about"
}

// DefaultMedia returns the prompts used where a show's Media leaves a gap:
// the ones prompts/ ships (and Asterisk's core vm-goodbye).
func DefaultMedia() Media {
	return Media{
		Closed:          []string{"sound:callin-lines-closed"},
		Full:            []string{"sound:callin-queue-full"},
		Blocked:         []string{"sound:callin-blocked"},
		Goodbye:         []string{"sound:vm-goodbye"},
		CallbackOffer:   []string{"sound:callin-callback-offer"},
		CallbackConfirm: []string{"sound:callin-callback-confirm"},
		CallbackReturn:  []string{"sound:callin-callback-return"},
		ReadyCheck:      []string{"sound:callin-next-press-1"},
		WaitAbout:       []string{"sound:callin-wait-about"},
	}
}

// ShowConfig is one show: its queue configuration (Node names its node) and
// its telephony settings.
type ShowConfig struct {
	queue.Config
	Media Media
	// ScreenerEndpoints maps a screener id to the endpoint to originate for
	// screening (e.g. "PJSIP/screener1"); a screener without one screens on
	// a private bridge with no line.
	ScreenerEndpoints map[string]string
	// HostEndpoint is what JoinHost originates when given no endpoint.
	HostEndpoint string
	// CallbackLine is how the show calls callers back; with no Dial
	// template no call-back is offered, whatever Config.Callback says.
	CallbackLine CallbackLine
	// HoldBridgeSize is the most callers a holding bridge of the show's
	// pool takes (0: DefaultHoldBridgeSize; negative: one bridge for the
	// whole line). See DefaultHoldBridgeSize for why the line is split.
	HoldBridgeSize int
	// NextClears makes Take next clear the air before it takes the next
	// caller, as a Telos Next does: ClearHold puts the unlocked callers on
	// air back on hold, ClearDrop drops them; "" leaves them on air.
	NextClears string
	// Studio names the node of the show's on-air bridge, host lines,
	// screenings, recording, call-backs and talkback (default: Config.Node;
	// Config.Node is set to it). Nodes names every node whose callers the
	// show takes (default: just the studio; the studio is added when
	// missing): a caller arriving by Stasis(callin,<show>) on any of them
	// is held there, in that node's own pool of holding bridges with its
	// own music, in one line with the others in arrival order (issue 24).
	Studio string
	Nodes  []string
}

// Config configures an App.
type Config struct {
	App        string // the Stasis application name, for originating into it; default "callin"
	Nodes      []NodeConfig
	Shows      []ShowConfig
	Sink       Sink       // nil: transitions go only to subscribers
	Blocklist  Blocklist  // nil: nobody is blocked
	Recall     Recall     // nil: readmissions fall back to channel creation time
	Phones     Phones     // nil: only ShowConfig.ScreenerEndpoints
	Recordings Recordings // nil: finished recordings are only announced to subscribers
	Now        func() time.Time
	Logger     *slog.Logger

	// Workers and Queue size the worker pool that answers, bridges,
	// rejects and resynchronises (defaults 64 and 8192 jobs). When the queue
	// is full a new arrival fails at once, loudly.
	Workers int
	Queue   int
	// EventTimeout bounds each wait for an event that follows a request
	// (default 5 s); PlaybackTimeout bounds a rejection or goodbye prompt
	// (default 30 s: a `bogus:` media never finishes).
	EventTimeout    time.Duration
	PlaybackTimeout time.Duration
	// EndGrace bounds how long after a caller's StasisEnd its
	// ChannelDestroyed, which carries the real hang-up cause, is still
	// taken to fill in the cause of the call (default 15 s). The call
	// itself ends at StasisEnd; ChannelDestroyed normally follows within a
	// millisecond (trace 10a), but came 0.8-1.5 s later with many callers
	// hanging up at once on a real Asterisk (issue 25).
	EndGrace time.Duration
	// RingTimeout is how long a person's phone rings before callin gives
	// up (default 20 s).
	RingTimeout time.Duration
	// QualityEvery is how often the lines of callers screening, ready,
	// picked or on air are measured (default 5 s).
	QualityEvery time.Duration
	// SweepEvery spaces the retries of ending stale stored calls when the
	// history store did not answer a resync (default 10 s, growing).
	SweepEvery time.Duration
	// AnnounceTick is how often due announcements are looked for (default
	// 1 s); AnnounceBatch the most started per tick and show (default 50).
	AnnounceTick  time.Duration
	AnnounceBatch int
	// SubscriberBuffer is each subscription's buffer (default 256).
	SubscriberBuffer int
	// NodeLostAfter is how long a node may stay disconnected (NodeDown)
	// before it is taken as lost (default 10 s): the calls held there of
	// every show spanning more than one node then end node_lost, and
	// the rest of each line keeps its order. A WebSocket that comes back
	// sooner (the client redials within MinBackoff..MaxBackoff) ends
	// nothing: the node's resync puts its calls right. A show on one node
	// keeps its callers across any gap, as before (its resync decides).
	NodeLostAfter time.Duration
	// NodeFor makes the configuration of a node named while the App runs
	// (AddShowNode: the API's POST /shows/{show}/nodes) from its name and
	// ARI URL: its client, with the credentials the service's rules give
	// (cmd/callin: as --nodes'). Nil: only AddNode adds nodes.
	NodeFor func(name, url string) (NodeConfig, error)
	// PhoneRule says which endpoints a person's phone (from Phones) may
	// be; Screen and StartTalkback refuse any other before they ring it,
	// so a phone stored before the rule (or by hand) is never dialled. The
	// zero rule is queue.DefaultPhonesAllowed. The endpoints of the shows'
	// configuration (ScreenerEndpoints, talkback and host phones) are an
	// admin's, and not checked.
	PhoneRule queue.PhoneRule
}

func (c *Config) setDefaults() {
	if c.App == "" {
		c.App = "callin"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	defInt(&c.Workers, 64)
	defInt(&c.Queue, 8192)
	def(&c.EventTimeout, 5*time.Second)
	def(&c.PlaybackTimeout, 30*time.Second)
	def(&c.EndGrace, 15*time.Second)
	def(&c.SweepEvery, 10*time.Second)
	def(&c.QualityEvery, 5*time.Second)
	def(&c.RingTimeout, 20*time.Second)
	def(&c.AnnounceTick, time.Second)
	def(&c.NodeLostAfter, 10*time.Second)
	defInt(&c.AnnounceBatch, 50)
	defInt(&c.SubscriberBuffer, 256)
}

// App is the Stasis application for a set of nodes and shows. Its methods
// are safe for concurrent use.
type App struct {
	cfg Config
	log *slog.Logger
	// nodesAt is the nodes by name: set by New, replaced whole by AddNode
	// (under spanMu, which also orders SpanNode), read without a lock.
	nodesAt atomic.Pointer[map[string]*node]
	spanMu  sync.Mutex
	shows   map[string]*show
	jobs    chan func(context.Context)

	// trunkMu guards trunk, the callers on air across the trunk (trunk.go);
	// a leaf lock: nothing else is taken under it.
	trunkMu sync.Mutex
	trunk   trunks

	mu      sync.Mutex
	running bool
	runCtx  context.Context // Run's, once it runs; guarded by mu
	bg      sync.WaitGroup  // background jobs (background); Run waits for them
}

// New checks the configuration and builds the App; Run starts it. Shows
// exist (and can be subscribed to) from here on.
func New(cfg Config) (*App, error) {
	cfg.setDefaults()
	nodes := map[string]*node{}
	a := &App{cfg: cfg, log: cfg.Logger, shows: map[string]*show{},
		trunk: trunks{byToken: map[string]*trunkCall{}, byCall: map[callKey]*trunkCall{}}}
	a.jobs = make(chan func(context.Context), cfg.Queue)
	for _, nc := range cfg.Nodes {
		if nc.Name == "" || nc.ARI == nil {
			return nil, fmt.Errorf("broadcast: node %q: name and ARI are required: %w", nc.Name, queue.ErrInvalid)
		}
		if nodes[nc.Name] != nil {
			return nil, fmt.Errorf("broadcast: node %q twice: %w", nc.Name, queue.ErrInvalid)
		}
		nodes[nc.Name] = newNode(a, nc)
	}
	a.nodesAt.Store(&nodes)
	for _, sc := range cfg.Shows {
		if a.shows[sc.Key] != nil {
			return nil, fmt.Errorf("broadcast: show %q twice: %w", sc.Key, queue.ErrInvalid)
		}
		nodes, err := a.showNodes(&sc)
		if err != nil {
			return nil, err
		}
		s, err := newShow(a, nodes, sc)
		if err != nil {
			return nil, err
		}
		a.shows[sc.Key] = s
		for _, n := range nodes {
			n.addShow(s)
		}
		s.studio().indexBridge(s.air.id, s)
	}
	return a, nil
}

// showNodes resolves a show's studio and nodes (ShowConfig.Studio and
// Nodes), studio first, and sets Config.Node to the studio.
func (a *App) showNodes(sc *ShowConfig) ([]*node, error) {
	if sc.Studio == "" {
		sc.Studio = sc.Node
	}
	sc.Node = sc.Studio
	names := append([]string{sc.Studio}, sc.Nodes...)
	var nodes []*node
	seen := map[string]bool{}
	for _, name := range names {
		n := a.nodeMap()[name]
		if n == nil {
			return nil, fmt.Errorf("broadcast: show %q: unknown node %q: %w", sc.Key, name, queue.ErrInvalid)
		}
		if !seen[name] {
			seen[name] = true
			nodes = append(nodes, n)
		}
	}
	return nodes, nil
}

// Run connects to every node and serves until ctx ends; it returns after
// every goroutine it started has stopped. It may be called once.
func (a *App) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return errors.New("broadcast: Run called twice")
	}
	a.running = true
	a.runCtx = ctx
	nodes := a.nodeMap() // AddNode starts those added from here on
	a.mu.Unlock()

	var wg sync.WaitGroup
	for range a.cfg.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case job := <-a.jobs:
					job(ctx)
				}
			}
		})
	}
	for _, n := range nodes {
		wg.Go(func() { n.run(ctx) })
	}
	for _, s := range a.shows {
		wg.Go(func() { s.loop(ctx) })
	}
	<-ctx.Done()
	wg.Wait()
	a.mu.Lock() // no background job starts after this (background checks ctx under mu)
	a.mu.Unlock()
	a.bg.Wait()
	for _, s := range a.shows {
		s.closeSubs(ErrClosed)
	}
	return nil
}

// submit hands a job to the worker pool without blocking; false when the
// pool's queue is full.
func (a *App) submit(job func(context.Context)) bool {
	select {
	case a.jobs <- job:
		return true
	default:
		return false
	}
}

// background runs job in a goroutine of its own with Run's context, for
// work that waits long on an event and must not hold a worker (a phone
// ringing for a screening); false when the App is not running. Run waits
// for these goroutines. Their number is bounded by what starts them (one
// per screening reservation, so at most one per caller).
func (a *App) background(job func(context.Context)) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.runCtx == nil || a.runCtx.Err() != nil {
		return false
	}
	ctx := a.runCtx
	a.bg.Go(func() { job(ctx) })
	return true
}

// show finds a show by key.
func (a *App) show(key string) (*show, error) {
	s := a.shows[key]
	if s == nil {
		return nil, fmt.Errorf("broadcast: show %q: %w", key, queue.ErrNotFound)
	}
	return s, nil
}

// Shows returns the keys of the configured shows.
func (a *App) Shows() []string {
	out := make([]string, 0, len(a.shows))
	for k := range a.shows {
		out = append(out, k)
	}
	return out
}

// newID returns 16 random hex characters: call ids and playback ids.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// MemoryBlocklist is a Blocklist held in memory: load it at start from the
// store, and Block/Unblock it whenever the store changes. Safe for
// concurrent use.
type MemoryBlocklist struct {
	mu  sync.RWMutex
	set map[string]string
}

// NewMemoryBlocklist returns a blocklist holding numbers (number -> reason).
func NewMemoryBlocklist(numbers map[string]string) *MemoryBlocklist {
	b := &MemoryBlocklist{set: make(map[string]string, len(numbers))}
	for n, r := range numbers {
		b.set[n] = r
	}
	return b
}

// IsBlocked reports whether number is blocked, and why.
func (b *MemoryBlocklist) IsBlocked(number string) (bool, string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.set[number]
	return ok, r
}

// Block adds number with a reason.
func (b *MemoryBlocklist) Block(number, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.set[number] = reason
}

// Unblock removes number.
func (b *MemoryBlocklist) Unblock(number string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.set, number)
}

// Replace makes the list hold numbers (number -> reason) and returns what
// changed: the numbers added (with their reasons) and those removed.
func (b *MemoryBlocklist) Replace(numbers map[string]string) (added map[string]string, removed []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	added = map[string]string{}
	for n, r := range numbers {
		if _, ok := b.set[n]; !ok {
			added[n] = r
		}
	}
	for n := range b.set {
		if _, ok := numbers[n]; !ok {
			removed = append(removed, n)
		}
	}
	b.set = make(map[string]string, len(numbers))
	for n, r := range numbers {
		b.set[n] = r
	}
	return added, removed
}
