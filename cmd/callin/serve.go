package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/blocklist"
	"github.com/callin-radio/callin/internal/cluster"
	"github.com/callin-radio/callin/internal/monitor"
	"github.com/callin-radio/callin/internal/phonebook"
	"github.com/callin-radio/callin/internal/recordings"
	"github.com/callin-radio/callin/internal/showspec"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/clientaddr"
)

// nodeSpec is one Asterisk node to connect to.
type nodeSpec struct {
	Name, URL, User, Password string
	Capacity                  int // CALLIN_CAPACITY_<NAME>: callers held before the node is marked full (0: no limit)
}

// stackConfig is everything the running service needs; serve builds it from
// flags and the environment, demo from its embedded defaults.
type stackConfig struct {
	Listen      string
	DatabaseURL string
	App         string
	Nodes       []nodeSpec
	// NodeSpec reads a node added while callin runs (POST
	// /api/v1/shows/{show}/nodes) by --nodes' rules; nil: none can be.
	NodeSpec      func(name, url string) (nodeSpec, error)
	Shows         []showspec.Spec // upserted into the shows table at start
	Journal       string
	SecureCookies bool
	Logger        *slog.Logger
	// Events tunes every node's event connection (zero: ari's defaults).
	Events ari.EventOptions
	// Limits bound clients: timeouts, body sizes, connections, event
	// streams (zero fields: web.DefaultLimits, which serve uses).
	Limits web.Limits
	// Started, when set, is called once the listener is up, with its address.
	Started func(addr string)
	// KeepRecordings is how long the on-air recordings are kept on
	// Asterisk before callin deletes them (0: forever).
	KeepRecordings time.Duration
	// ClaimEvery is how often a standing-by instance tries to claim a
	// node, and the driving one checks its claim (0: cluster.ClaimEvery).
	ClaimEvery time.Duration
	// Advertise is where other instances reach this one, to pass on
	// requests for the shows it drives (see cluster.AdvertiseURL).
	Advertise string
	// ReloadEvery is how often people's phones and the blocklist are read
	// again, for changes made elsewhere (0: phonebook.Every).
	ReloadEvery time.Duration
	// PhoneRule is what a person's phone may be (--phones-allowed; the
	// zero rule is queue.DefaultPhonesAllowed). The trunks of the shows'
	// call-backs are kept out of it (phonebook.RuleFor).
	PhoneRule queue.PhoneRule
	// AllowedHosts are host names requests may name in their Host header
	// besides localhost, IP literals and the hosts of Listen and Advertise
	// (see web.Config.AllowedHosts).
	AllowedHosts []string
	// TrustedProxies are the addresses and networks whose forwarding
	// header (ForwardedHeader: X-Forwarded-For, the default, or
	// Forwarded) names the client; none by default.
	TrustedProxies  []string
	ForwardedHeader string
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg       stackConfig
		nodes     string
		ariUser   string
		ariPass   string
		shows     multiFlag
		logFormat string
		logLevel  string
		allowed   string
	)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "address of the console, the API, /metrics and the health checks")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL URL (required), e.g. postgres://callin@db/callin")
	fs.StringVar(&cfg.App, "app", "callin", "the Stasis application name, as in the dialplan's Stasis(callin,<show>)")
	fs.StringVar(&nodes, "nodes", "", "Asterisk nodes as name=URL, comma separated, e.g. main=http://10.0.0.5:8088 (required)")
	fs.StringVar(&ariUser, "ari-user", "callin", "ARI user for every node (per node: CALLIN_ARI_USER_<NAME>)")
	fs.StringVar(&ariPass, "ari-password", "", "ARI password for every node (per node: CALLIN_ARI_PASSWORD_<NAME>); prefer the environment")
	fs.Var(&shows, "show", "a show: key[,title=..][,node=..][,capacity=N][,max-on-air=N][,moh=CLASS][,announce=DURATION][,talkback-phones=EP|EP][,talkback-media=URI|URI][,host=EP][,hold=N][,ready-check][,next=hold|drop][,callback=PJSIP/{number}@trunk,...][,closed]; repeat for more (env: CALLIN_SHOW, ';' between shows)")
	fs.StringVar(&cfg.Journal, "journal", defaultJournal(env), "file where history waits while PostgreSQL is unreachable")
	fs.DurationVar(&cfg.KeepRecordings, "keep-recordings", 0, "delete on-air recordings from Asterisk this long after they end, e.g. 720h (0: keep them)")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark session cookies Secure (set when a TLS proxy fronts callin)")
	fs.StringVar(&cfg.Advertise, "advertise", "", "the URL other callin instances reach this one at, to pass on requests for the shows it drives (default: the --listen address, unless it is 0.0.0.0 or ::)")
	fs.StringVar(&allowed, "phones-allowed", queue.DefaultPhonesAllowed,
		"the endpoints a person's phone may be, as patterns separated by commas: '*' stands for an endpoint's name, '!' keeps one out, "+
			"a Local channel or an endpoint with @ only exactly as listed, e.g. 'PJSIP/*,!PJSIP/carrier,Local/200@studio'")
	lim := web.DefaultLimits()
	fs.IntVar(&lim.MaxConns, "max-conns", lim.MaxConns, "open connections at most; beyond it the longest-idle keep-alive connection is ended")
	fs.IntVar(&lim.MaxConnsPerAddress, "max-conns-per-address", lim.MaxConnsPerAddress, "open connections of one client address at most (behind a proxy: all of its clients')")
	fs.Float64Var(&lim.ConnRatePerAddress, "conn-rate-per-address", lim.ConnRatePerAddress, "new connections a second one client address may open, after a burst of --conn-burst-per-address; beyond it 429 (behind a proxy: not capped)")
	fs.IntVar(&lim.ConnBurstPerAddress, "conn-burst-per-address", lim.ConnBurstPerAddress, "new connections one client address may open at once before --conn-rate-per-address applies")
	fs.IntVar(&lim.MaxStreams, "max-streams", lim.MaxStreams, "event streams at most; a tenth of them only for admins and producers")
	fs.IntVar(&lim.StreamsPerUser, "streams-per-user", lim.StreamsPerUser, "event streams of one user (all sessions) or token at most")
	fs.IntVar(&lim.SessionsPerUser, "sessions-per-user", lim.SessionsPerUser, "console sessions of one user at most; a login beyond it ends the one seen longest ago")
	fs.IntVar(&lim.LoginsPerUser, "logins-per-user", lim.LoginsPerUser, "successful logins of one user an hour at most, a quarter of them at once; beyond it 429 before the password is hashed")
	fs.Func("allowed-hosts", "host names the console and API answer for, comma separated, besides localhost, IP addresses and the --listen and --advertise hosts; * for any (default: none)", func(v string) error {
		cfg.AllowedHosts = append(cfg.AllowedHosts, splitList(v)...)
		return nil
	})
	fs.Func("trusted-proxies", "addresses or networks of the proxies in front of callin whose --forwarded-header says the client's address, comma separated, e.g. 10.0.0.5,192.168.0.0/24 (default: none; login limits key on the connection's address)", func(v string) error {
		cfg.TrustedProxies = append(cfg.TrustedProxies, splitList(v)...)
		return nil
	})
	fs.StringVar(&cfg.ForwardedHeader, "forwarded-header", clientaddr.XForwardedFor, "the header the trusted proxies name the client in: X-Forwarded-For or Forwarded")
	fs.StringVar(&logFormat, "log-format", "text", "text or json")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	logger, err := newLogger(stderr, logFormat, logLevel)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	// The trusted proxies are not capped per address (a proxy's clients all
	// come from its address); the login limits read the same list.
	proxies, err := clientaddr.New(cfg.TrustedProxies, cfg.ForwardedHeader)
	if err != nil {
		return usagef("--trusted-proxies, --forwarded-header: %v", err)
	}
	lim.TrustedProxies = proxies.Networks()
	cfg.Limits = lim
	if cfg.DatabaseURL == "" {
		return usagef("serve: --database-url (CALLIN_DATABASE_URL) is required")
	}
	if cfg.PhoneRule, err = queue.ParsePhoneRule(allowed); err != nil {
		return usagef("--phones-allowed: %v", err)
	}
	if err := checkDatabaseURL(cfg.DatabaseURL); err != nil {
		return err
	}
	if cfg.Nodes, err = parseNodes(nodes, ariUser, ariPass, env); err != nil {
		return err
	}
	cfg.NodeSpec = func(name, url string) (nodeSpec, error) { return parseNode(name, url, ariUser, ariPass, env) }
	if cfg.Shows, err = parseShows(shows, cfg.Nodes); err != nil {
		return err
	}
	return runStack(ctx, cfg)
}

// runStack runs the service until ctx ends, then shuts down in order: the
// listener stops taking requests, the Stasis application lets go of Asterisk
// (callers stay in their bridges for the next start), and the history
// writer flushes.
func runStack(ctx context.Context, cfg stackConfig) error {
	log := cfg.Logger
	if cfg.KeepRecordings < 0 {
		return usagef("--keep-recordings: %v is negative", cfg.KeepRecordings)
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := loadStored(ctx, store, cfg)
	if err != nil {
		return err
	}
	cfg.PhoneRule = phonebook.RuleFor(cfg.PhoneRule, st.shows)
	st.phones.WarnRefused(cfg.PhoneRule)
	writer, err := startHistory(store, cfg.Journal, log)
	if err != nil {
		return err
	}
	// The listener comes before the nodes: where other instances reach this
	// one is known before any node is claimed.
	ln, advertise, err := listen(cfg)
	if err != nil {
		return err
	}
	defer ln.Close()
	srv, loops, err := buildStack(cfg, store, st, writer, advertise)
	if err != nil {
		return err
	}
	log.Info("callin is listening", "addr", "http://"+ln.Addr().String(), "shows", len(st.shows), "nodes", len(cfg.Nodes))
	if cfg.Started != nil {
		cfg.Started(ln.Addr().String())
	}
	runErr := serve(ctx, log, srv, ln, loops...)

	flushHistory(ctx, writer, cfg.Journal, log)
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}

// stored is what the service reads from the database before it starts.
type stored struct {
	shows    []broadcast.ShowConfig
	talkback map[string]web.TalkbackRules // by show key
	blocks   blocklist.List
	phones   *phonebook.Book
}

// loadStored reads the shows (storing those given on the command line),
// the blocklist and people's phones.
func loadStored(ctx context.Context, store *postgres.Store, cfg stackConfig) (stored, error) {
	shows, talkback, err := loadShows(ctx, store, cfg)
	if err != nil {
		return stored{}, err
	}
	blocks, err := loadBlocklist(ctx, store, shows)
	if err != nil {
		return stored{}, err
	}
	phones, err := phonebook.Load(ctx, store, cfg.Logger)
	if err != nil {
		return stored{}, fmt.Errorf("database: %w", err)
	}
	return stored{shows: shows, talkback: talkback, blocks: blocks, phones: phones}, nil
}

// buildStack makes the service's parts, each after what it uses: the
// nodes and their claims, the Stasis application, the shows' saved
// settings (which a claim taking a node over applies), the console behind
// the standby proxy. It returns the HTTP server and the loops serve runs.
func buildStack(cfg stackConfig, store *postgres.Store, st stored, writer *postgres.Writer, advertise string) (*http.Server, []func(context.Context) error, error) {
	log := cfg.Logger
	nodes, files, err := connectNodes(cfg, st.shows)
	if err != nil {
		return nil, nil, err
	}
	claims := cluster.NewClaims(store, advertise, cfg.ClaimEvery, log)
	claims.Claim(nodes, st.shows)
	metrics := monitor.NewMetrics()
	keeper := recordings.New(store, files, cfg.KeepRecordings, log)
	app, err := broadcast.New(broadcast.Config{
		App:       cfg.App,
		Nodes:     nodes,
		Shows:     st.shows,
		Sink:      metrics.Sink(writer),
		Blocklist: st.blocks,
		Recall:    recall{store},
		// Recordings: each finished on-air recording, kept in the store.
		Recordings: keeper,
		Phones:     st.phones,
		Logger:     log,
		PhoneRule:  cfg.PhoneRule,
		NodeFor:    addedNode(cfg, claims),
	})
	if err != nil {
		return nil, nil, err
	}
	state := cluster.NewShowState(store, app, st.blocks, log)
	claims.TakeOverWith(state.TakeOver) // before app.Run, which claims the nodes
	console, err := newConsole(cfg, store, state.Controls(app), app, st, keeper)
	if err != nil {
		return nil, nil, err
	}
	metrics.Watch(app, writer)
	db := monitor.NewDatabase(store.Pool())
	metrics.WatchDatabase(db)
	proxy := cluster.NewProxy(console.Handler(), app, store, st.shows, advertise, log)
	srv := cfg.Limits.HTTPServer(console.Front(serviceMux(proxy, metrics, app, db, cfg.Limits)), slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	every := cmp.Or(cfg.ReloadEvery, phonebook.Every)
	follow := cluster.Follower{Callers: store, Blocklist: st.blocks, App: app, Changed: console.CallerChanged, Every: every, Log: log}
	var keys []string
	for _, sc := range st.shows {
		keys = append(keys, sc.Key)
	}
	return srv, []func(context.Context) error{app.Run, console.Run, keeper.Run,
		loop(func(ctx context.Context) { st.phones.Run(ctx, every) }), loop(follow.Run),
		loop(func(ctx context.Context) { // the nodes given and studios named while the shows last ran
			state.RestoreNodes(ctx, keys)
			state.RestoreStudios(ctx, keys)
		}),
		loop(func(ctx context.Context) { expireIdempotencyKeys(ctx, store, log) })}, nil
}

// loop makes a function that runs until ctx ends one of serve's loops.
func loop(f func(context.Context)) func(context.Context) error {
	return func(ctx context.Context) error { f(ctx); return nil }
}

// listen opens the service's listener, bounded as web.Limits says (every
// timeout and bound on clients is its), and says where other instances
// reach it (cluster.AdvertiseURL).
func listen(cfg stackConfig) (net.Listener, string, error) {
	// No TCP keep-alive set as a connection is accepted: the limits turn
	// it on for the connections they admit, so that refusing one costs no
	// setsockopt (a flood of them, issue 21's soak).
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Listen)
	if err != nil {
		return nil, "", fmt.Errorf("listen: %w", err)
	}
	return cfg.Limits.Listener(ln), cluster.AdvertiseURL(cfg.Advertise, ln.Addr()), nil
}

// loadBlocklist reads the blocked numbers and gives the list to every
// show, so callers readmitted after a restart are flagged if blocked.
func loadBlocklist(ctx context.Context, store *postgres.Store, shows []broadcast.ShowConfig) (blocklist.List, error) {
	list, err := blocklist.Load(ctx, store)
	if err != nil {
		return blocklist.List{}, fmt.Errorf("database: %w", err)
	}
	for i := range shows {
		shows[i].Blocklist = list
	}
	return list, nil
}

// flushHistory writes what history is left, for up to 15 s after ctx
// ends; what is not written waits in the journal for the next start.
func flushHistory(ctx context.Context, writer *postgres.Writer, journal string, log *slog.Logger) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := writer.Close(fctx); err != nil {
		log.Error("history not all written; the rest waits in the journal for the next start", "journal", journal, "err", err)
		return
	}
	log.Info("history flushed")
}

// startHistory starts the durable history writer, its journal in journal.
func startHistory(store *postgres.Store, journal string, log *slog.Logger) (*postgres.Writer, error) {
	if err := os.MkdirAll(filepath.Dir(journal), 0o750); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	writer, err := postgres.StartWriter(store, postgres.WriterConfig{Journal: journal, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("history writer: %w", err)
	}
	return writer, nil
}

// newConsole builds the console and API on the Stasis app and the store.
func newConsole(cfg stackConfig, store *postgres.Store, controls web.Controls, app *broadcast.App, st stored,
	keeper *recordings.Keeper) (*web.Server, error) {
	proxies, err := clientaddr.New(cfg.TrustedProxies, cfg.ForwardedHeader)
	if err != nil {
		return nil, usagef("--trusted-proxies, --forwarded-header: %v", err)
	}
	authSvc, err := auth.New(auth.Config{Store: store, Logger: cfg.Logger, SecureCookies: cfg.SecureCookies, Proxies: proxies,
		MaxSessions: cfg.Limits.SessionsPerUser, LoginsPerUser: cfg.Limits.LoginsPerUser})
	if err != nil {
		return nil, err
	}
	return web.New(web.Config{
		Shows:    app,
		Feed:     web.BroadcastFeed(app),
		Callers:  app,
		Controls: controls, // settings changes saved for a standby (cluster.ShowState)
		History:  blocklist.NewHistory(store, st.blocks),
		Chat:     store,
		Notes:    store, // caller notes, written in the console
		Auth:     authSvc,
		Logger:   cfg.Logger,
		Limits:   cfg.Limits,
		Talkback: st.talkback,
		Blocks:   app,
		// Recordings: listed and served through callin's checks.
		Recordings:   keeper,
		Pages:        storePages{store}, // the API's lists a page at a time
		Idempotency:  storeIdem{store},  // Idempotency-Key on the API's POSTs
		Phones:       st.phones,
		PhoneRule:    cfg.PhoneRule,
		AllowedHosts: allowedHosts(cfg),
		Proxies:      proxies,
	}), nil
}

// allowedHosts are the host names the service answers for: the
// --allowed-hosts list and the hosts of --listen and --advertise (web
// lets localhost and IP literals through besides).
func allowedHosts(cfg stackConfig) []string {
	hosts := slices.Clone(cfg.AllowedHosts)
	if h, _, err := net.SplitHostPort(cfg.Listen); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	if u, err := url.Parse(cfg.Advertise); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	return hosts
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// loadShows stores the shows given on the command line and returns every
// stored show this service runs (those of its nodes), with what each one's
// talkback may use.
func loadShows(ctx context.Context, store *postgres.Store, cfg stackConfig) ([]broadcast.ShowConfig, map[string]web.TalkbackRules, error) {
	var nodes []string
	for _, n := range cfg.Nodes {
		nodes = append(nodes, n.Name)
	}
	loaded, err := showspec.Load(ctx, store, cfg.Shows, nodes, cfg.Logger)
	if err != nil {
		return nil, nil, err
	}
	if len(loaded) == 0 {
		return nil, nil, usagef("no show to run: add one with --show KEY (it is kept in the database)")
	}
	shows := make([]broadcast.ShowConfig, len(loaded))
	talkback := map[string]web.TalkbackRules{}
	for i, sh := range loaded {
		shows[i] = sh.ShowConfig
		talkback[sh.Key] = web.TalkbackRules(sh.Talkback)
	}
	return shows, talkback, nil
}

// connectNodes makes an ARI client per node, and gives each show the client
// of its node for its stored recordings.
func connectNodes(cfg stackConfig, shows []broadcast.ShowConfig) ([]broadcast.NodeConfig, map[string]recordings.Files, error) {
	var nodes []broadcast.NodeConfig
	files := map[string]recordings.Files{}
	for _, n := range cfg.Nodes {
		nc, c, err := nodeConfig(cfg, n)
		if err != nil {
			return nil, nil, err
		}
		nodes = append(nodes, nc)
		for _, sc := range shows {
			if sc.Node == n.Name {
				files[sc.Key] = c
			}
		}
	}
	return nodes, files, nil
}

// nodeConfig makes a node's ARI client and configuration.
func nodeConfig(cfg stackConfig, n nodeSpec) (broadcast.NodeConfig, *ari.Client, error) {
	c, err := ari.NewClient(ari.Config{URL: n.URL, Username: n.User, Password: n.Password, App: cfg.App, Logger: cfg.Logger.With("node", n.Name)})
	if err != nil {
		return broadcast.NodeConfig{}, nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	return broadcast.NodeConfig{Name: n.Name, ARI: c, Events: cfg.Events, Capacity: n.Capacity}, c, nil
}

// addedNode makes the configuration of a node added while callin runs
// (broadcast.Config.NodeFor): --nodes' rules for its credentials and
// capacity, and claimed as the others are (one instance drives it).
// Nil when cfg can add none (the demo).
func addedNode(cfg stackConfig, claims *cluster.Claims) func(name, url string) (broadcast.NodeConfig, error) {
	if cfg.NodeSpec == nil {
		return nil
	}
	return func(name, url string) (broadcast.NodeConfig, error) {
		n, err := cfg.NodeSpec(name, url)
		if err != nil {
			return broadcast.NodeConfig{}, err
		}
		nc, _, err := nodeConfig(cfg, n)
		if err != nil {
			return broadcast.NodeConfig{}, err
		}
		ncs := []broadcast.NodeConfig{nc}
		claims.Claim(ncs, nil)
		return ncs[0], nil
	}
}

// serviceMux routes the console and API, /metrics, /healthz and /readyz.
// The probes (/metrics, /healthz, /readyz) answer anyone: limits.Probes
// bounds them so that they cannot starve the console and the API.
func serviceMux(console http.Handler, metrics *monitor.Metrics, app *broadcast.App, db *monitor.Database, limits web.Limits) *http.ServeMux {
	mux := http.NewServeMux()
	probe := limits.Probes()
	mux.Handle("/", console)
	mux.Handle("GET /metrics", probe(metrics.Handler()))
	mux.Handle("GET /healthz", probe(monitor.Healthz()))
	mux.Handle("GET /readyz", probe(monitor.Ready(app, db)))
	return mux
}

// serve runs the HTTP server and the service's loops until ctx ends or one
// of them fails, then stops taking requests and ends the loops (SSE streams
// never finish by themselves: they end with the loops' context). Callers
// stay in Asterisk.
func serve(ctx context.Context, log *slog.Logger, srv *http.Server, ln net.Listener, loops ...func(context.Context) error) error {
	appCtx, stopApp := context.WithCancel(context.WithoutCancel(ctx))
	defer stopApp()
	g, gctx := errgroup.WithContext(appCtx)
	for _, loop := range loops {
		g.Go(func() error { return loop(gctx) })
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		select {
		case <-ctx.Done():
		case <-gctx.Done():
		}
		log.Info("shutting down: no new actions; callers stay in Asterisk")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		stopApp()
		_ = srv.Shutdown(sctx)
		return nil
	})
	return g.Wait()
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

func defaultJournal(env envFunc) string {
	if d := env("STATE_DIRECTORY"); d != "" { // systemd's StateDirectory=
		return filepath.Join(d, "history.journal")
	}
	return filepath.Join("var", "history.journal")
}

// parseNodes reads "name=URL,name=URL". Each node's user and password come
// from CALLIN_ARI_USER_<NAME> / CALLIN_ARI_PASSWORD_<NAME>, else the shared
// ones.
func parseNodes(spec, user, password string, env envFunc) ([]nodeSpec, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, usagef("serve: --nodes (CALLIN_NODES) is required, e.g. --nodes main=http://127.0.0.1:8088")
	}
	var out []nodeSpec
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		name, raw, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || raw == "" {
			return nil, usagef("--nodes: %q is not name=URL", part)
		}
		if seen[name] {
			return nil, usagef("--nodes: node %q named twice", name)
		}
		seen[name] = true
		n, err := parseNode(name, raw, user, password, env)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// parseNode reads one node of --nodes, or one added while callin runs
// (POST /api/v1/shows/{show}/nodes): its URL, and its user, password and
// capacity from the environment (CALLIN_ARI_USER_<NAME>, ...), else the
// shared user and password.
func parseNode(name, raw, user, password string, env envFunc) (nodeSpec, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nodeSpec{}, usagef("--nodes: node %q: %q is not an http(s) URL like http://10.0.0.5:8088", name, redactURL(raw))
	}
	n := nodeSpec{Name: name, URL: u.Scheme + "://" + u.Host + strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/ari"), User: user, Password: password}
	if u.User != nil {
		n.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			n.Password = p
		}
	}
	if v := env("CALLIN_ARI_USER_" + envName(name)); v != "" {
		n.User = v
	}
	if v := env("CALLIN_ARI_PASSWORD_" + envName(name)); v != "" {
		n.Password = v
	}
	if v := env("CALLIN_CAPACITY_" + envName(name)); v != "" {
		if n.Capacity, err = strconv.Atoi(v); err != nil || n.Capacity < 0 {
			return nodeSpec{}, usagef("CALLIN_CAPACITY_%s: %q is not a number of callers", envName(name), v)
		}
	}
	if n.Password == "" {
		return nodeSpec{}, usagef("node %q has no ARI password: set CALLIN_ARI_PASSWORD (or CALLIN_ARI_PASSWORD_%s)", name, envName(name))
	}
	return n, nil
}

// parseShows reads the --show flags: each show is on the first node
// unless it names another, which must be one of nodes.
func parseShows(flags []string, nodes []nodeSpec) ([]showspec.Spec, error) {
	names := map[string]bool{}
	for _, n := range nodes {
		names[n.Name] = true
	}
	var shows []showspec.Spec
	for _, f := range flags {
		s, err := showspec.Parse(f, nodes[0].Name)
		if err != nil {
			return nil, usagef("--show %v", err)
		}
		for _, n := range append([]string{s.Node}, s.Nodes...) {
			if !names[n] {
				return nil, usagef("--show %s: node %q is not in --nodes", s.Key, n)
			}
		}
		shows = append(shows, s)
	}
	return shows, nil
}

// multiFlag is a repeatable string flag; from the environment, ';'
// separates values.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ";") }

func (m *multiFlag) Set(v string) error {
	for _, p := range strings.Split(v, ";") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

// checkDatabaseURL refuses a database URL that does not parse, naming the
// usual cause without echoing the password: a password holding '/', '#',
// '?' or '@' must be percent-encoded. Keyword/value strings ("host=db
// user=callin") are left to the driver.
func checkDatabaseURL(raw string) error {
	if !strings.Contains(raw, "://") {
		return nil
	}
	if _, err := url.Parse(raw); err != nil {
		return usagef("serve: --database-url %s is not a valid URL: percent-encode '/', '#', '?', '@' and '%%' in the user name and password (%%2F, %%23, %%3F, %%40, %%25)", redactURL(raw))
	}
	return nil
}

// redactURL hides the user information of a URL, even of one that does
// not parse: everything between "://" and the last "@" goes.
func redactURL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	at := strings.LastIndex(raw, "@")
	if at < i+3 {
		return raw
	}
	return raw[:i+3] + "xxxxx" + raw[at:]
}

// secretParts returns what of a database URL or keyword/value string may
// be a password: the URL's user information and its pieces between
// separators, or the words of a password= value up to the next keyword.
func secretParts(dsn string) []string {
	var parts []string
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i+3 {
			info := dsn[i+3 : at]
			if _, pw, ok := strings.Cut(info, ":"); ok {
				parts = append(parts, pw)
				parts = append(parts, strings.FieldsFunc(pw, func(r rune) bool { return strings.ContainsRune("/#?@: ", r) })...)
			}
		}
	}
	if i := strings.Index(dsn, "password="); i >= 0 {
		rest := dsn[i+len("password="):]
		if j := nextKeyword.FindStringIndex(rest); j != nil {
			rest = rest[:j[0]]
		}
		rest = strings.TrimSpace(rest)
		parts = append(parts, rest, strings.Trim(rest, "'"))
		parts = append(parts, strings.Fields(strings.Trim(rest, "'"))...)
	}
	return parts
}

// nextKeyword is the start of the next keyword of a keyword/value string.
var nextKeyword = regexp.MustCompile(`\s+[a-z_]+\s*=`)

// redactSecrets returns err with every piece of dsn's password hidden
// where it stands as a word of its own, and the user information of any
// URL in it: the driver's parse errors quote what they could not read.
func redactSecrets(err error, dsn string) error {
	msg := err.Error()
	for _, p := range secretParts(dsn) {
		msg = replaceWord(msg, p, "xxxxx")
	}
	for _, f := range strings.Fields(msg) {
		if r := redactURL(f); r != f {
			msg = strings.ReplaceAll(msg, f, r)
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// replaceWord replaces the occurrences of word in s that no letter or
// digit adjoins.
func replaceWord(s, word, with string) string {
	if word == "" {
		return s
	}
	isWord := func(b byte) bool {
		return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
	}
	var b strings.Builder
	for {
		i := strings.Index(s, word)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(word)
		if (i > 0 && isWord(s[i-1])) || (end < len(s) && isWord(s[end])) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s = s[end:]
	}
}

// redact hides the user information of every URL an error quotes (for
// errors about a string it is not given; redactSecrets also knows it).
func redact(err error) error { return redactSecrets(err, "") }
