package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/showspec"
	"github.com/callin-radio/callin/postgres/pgcluster"
	"github.com/callin-radio/callin/prompts"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// demoShow is the show the demo runs.
const demoShow = "morning"

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the console")
	rate := fs.Float64("rate", 0.5, "simulated callers arriving per second")
	burst := fs.Int("burst", 30, "callers already waiting when the demo starts")
	patience := fs.Duration("patience", 6*time.Minute, "mean time a simulated caller waits before hanging up")
	dataDir := fs.String("data", "", "folder for the demo's PostgreSQL cluster (default: a temporary one, removed at exit)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	log, err := newLogger(stderr, "text", *logLevel)
	if err != nil {
		return err
	}

	// A PostgreSQL the demo starts and stops itself.
	dir := *dataDir
	if dir == "" {
		// Under /tmp: as root, the postgres user must reach the folder.
		if dir, err = os.MkdirTemp("", "callin-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	cluster, err := startDemoDatabase(ctx, dir, log)
	if err != nil {
		return err
	}
	defer cluster.Stop()
	dbURL := cluster.URL()
	password := rand.Text()
	token, err := setDemoLogin(ctx, dbURL, password)
	if err != nil {
		return err
	}
	pbx := newDemoAsterisk(log)
	defer pbx.Close()

	cfg := stackConfig{
		Listen:      *listen,
		DatabaseURL: dbURL,
		App:         "callin",
		Nodes:       []nodeSpec{{Name: "demo", URL: pbx.URL(), User: pbx.User(), Password: pbx.Password()}},
		Shows: []showspec.Spec{{Config: queue.Config{
			Key: demoShow, Title: "The Morning Call-In", Node: "demo", LinesOpen: true,
			Capacity: 2000, MaxOnAir: 4, MOHClass: "callin", AnnounceEvery: 90 * time.Second, ReadyCheck: true,
			// Callers who would wait three minutes or more are offered a
			// call-back; the simulated ones take it now and then.
			Callback: queue.CallbackConfig{Offer: 3 * time.Minute, NearFront: 3, Attempts: 3, Gap: time.Minute, MaxRinging: 2},
		}, Callback: broadcast.CallbackLine{Dial: "PJSIP/{number}@trunk", CallerID: `"The Morning Call-In" <+12025550100>`},
			// Phones the fake answers at once: the console's Talkback and
			// Call host work, and the line is held in bridges of 20, so a
			// talkback reaches several of them.
			Talkback: showspec.Talkback{Phones: []string{"PJSIP/producer", "PJSIP/studio"}, Media: []string{"sound:tt-monkeys"}},
			Host:     "PJSIP/studio", Hold: 20,
		}},
		Journal: filepath.Join(dir, "history.journal"),
		Logger:  log,
		Events:  ari.EventOptions{},
	}
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	cfg.Started = func(addr string) {
		fmt.Fprintf(stdout, "\ncallin demo is running: open http://%s/\n  user:     demo\n  password: %s\n"+
			"The automation API, as a producer:\n  token:    %s\n  e.g.      curl -H 'Authorization: Bearer %s' http://%s/api/v1/shows/%s/callers\n"+
			"  (more tokens: callin token create --database-url '%s' NAME)\n"+
			"Simulated callers dial in to %q at %.2g a second. Press Ctrl-C to stop.\n\n",
			addr, password, token, token, addr, demoShow, dbURL, demoShow, *rate)
		go simulate(simCtx, pbx, log, *burst, *rate, *patience)
	}
	return runStack(ctx, cfg)
}

// startDemoDatabase starts the demo's PostgreSQL cluster in dir.
func startDemoDatabase(ctx context.Context, dir string, log *slog.Logger) (*pgcluster.Cluster, error) {
	log.Info("starting a local PostgreSQL", "dir", dir)
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir, Logger: log})
	if errors.Is(err, pgcluster.ErrNoPostgres) {
		return nil, fmt.Errorf("the demo needs PostgreSQL's initdb and pg_ctl: install them (Debian: apt-get install postgresql) and try again: %w", err)
	}
	return cluster, err
}

// setDemoLogin creates the demo's admin user, or gives it the new password
// when the cluster is kept from an earlier run (--data), and makes a
// producer's API token for the automation API, named for this run.
func setDemoLogin(ctx context.Context, dbURL, password string) (token string, err error) {
	store, err := openStore(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer store.Close()
	err = auth.AddUser(ctx, store, "demo", auth.RoleAdmin, password)
	if errors.Is(err, queue.ErrConflict) {
		err = auth.SetPassword(ctx, store, "demo", password)
	}
	if err != nil {
		return "", err
	}
	return auth.CreateToken(ctx, store, "demo-"+time.Now().UTC().Format("20060102-150405"), auth.RoleProducer, "demo")
}

// newDemoAsterisk starts a fake Asterisk in this process, with the prompts
// callin plays.
func newDemoAsterisk(log *slog.Logger) *aritest.Server {
	sounds := maps.Clone(aritest.DefaultSounds)
	for _, name := range prompts.Names() {
		sounds[name] = 3 * time.Second
	}
	return aritest.NewServer(aritest.Options{Sounds: sounds, Logger: log.With("fake", "asterisk")})
}

// simulate places the opening burst of callers, then a steady stream.
func simulate(ctx context.Context, pbx *aritest.Server, log *slog.Logger, burst int, rate float64, patience time.Duration) {
	// Wait until the app holds the node, as the dialplan's retry would.
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		return
	}
	base := aritest.SimOptions{
		App: "callin", Shows: []string{demoShow}, Patience: patience, RepeatShare: 0.25,
		StasisRetry: 500 * time.Millisecond, RetryFor: time.Minute, CallbackShare: 0.3,
	}
	if burst > 0 {
		o := base
		o.Max = burst
		if _, err := pbx.Simulate(ctx, o, nil); err != nil {
			return
		}
	}
	if rate <= 0 {
		return
	}
	o := base
	o.Rate = rate
	st, _ := pbx.Simulate(ctx, o, nil)
	log.Info("caller simulator stopped", "placed", st.Placed, "failed", st.Failed)
}
