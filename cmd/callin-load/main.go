// Command callin-load measures callin under load: the whole service in this
// process (store, history writer, Stasis application over real ARI
// HTTP/WebSocket, console and REST API) against the fake Asterisk, a
// throwaway PostgreSQL, callers dialling in at a steady rate and hanging up
// at random, a producer driving the REST API, and event-stream clients
// measuring fan-out. It prints a report; LOADTEST.md says what each line
// means and holds the figures.
//
// It is a command of its own so that the product binary, callin, links
// neither the load generator nor what it needs.
//
//	go run ./cmd/callin-load --callers 600 --rate 100
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "callin-load:", err, "(see callin-load -h)")
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "callin-load:", err)
		os.Exit(1)
	}
}

// errUsage marks a mistake on the command line: exit status 2.
var errUsage = errors.New("usage")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// config is what a run was asked to do.
type config struct {
	Callers      int
	Rate         float64
	Concurrency  int
	Consoles     int // API event streams, each measuring fan-out latency
	Browsers     int // console (HTML fragment) streams of a logged-in producer
	PromoteEvery time.Duration
	HangupEvery  time.Duration
	Cycles       int
	MaxOnAir     int
	HoldSize     int // callers per holding bridge: 0 callin's default, negative one bridge
	Duration     time.Duration
	DatabaseURL  string
	LogLevel     string
	FakeAlone    bool
	CPUProfile   string
}

// run is main without the process: it parses args, runs the load until it
// is done or ctx ends, and prints the report to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The log and the progress lines share stderr.
	stderr = &lockedWriter{w: stderr}
	c, err := parseConfig(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	rep, err := runLoad(ctx, c, log, stderr)
	if err != nil {
		return err
	}
	rep.print(stdout, c)
	return nil
}

const usage = `Usage: callin-load [flags]

Runs callin in this process against the fake Asterisk under a load of
simulated callers and a producer, and prints what it measured.

Flags:
`

// parseConfig reads the flags. On -h or --help it prints the usage to
// stdout and returns flag.ErrHelp.
func parseConfig(args []string, stdout, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("callin-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	var c config
	fs.IntVar(&c.Callers, "callers", 600, "callers who dial in")
	fs.Float64Var(&c.Rate, "rate", 100, "callers arriving per second (evenly spaced)")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "calls being placed at once at most")
	fs.IntVar(&c.Consoles, "consoles", 2, "API event streams (/api/v1/shows/{show}/events) measuring fan-out latency (at least 1)")
	fs.IntVar(&c.Browsers, "browsers", 1, "console streams (/shows/{show}/live) of a logged-in producer")
	fs.DurationVar(&c.PromoteEvery, "promote-every", 250*time.Millisecond, "a producer promotes a caller (and drops one when on air is full) this often")
	fs.DurationVar(&c.HangupEvery, "hangup-every", 250*time.Millisecond, "a random waiting caller hangs up this often (0: never)")
	fs.IntVar(&c.Cycles, "cycles", 20, "promote/drop cycles after the last caller was admitted, then the run ends")
	fs.IntVar(&c.MaxOnAir, "max-on-air", 4, "the show's on-air limit")
	fs.IntVar(&c.HoldSize, "hold-size", 0, "most callers per holding bridge of the show's pool (0: callin's default, 50; -1: one bridge for the whole line, as before the pool)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Minute, "the run ends after this long in any case")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL URL (default: a throwaway local cluster under /tmp, removed at the end)")
	fs.StringVar(&c.LogLevel, "log-level", "warn", "the service's log level: debug, info, warn or error")
	fs.BoolVar(&c.FakeAlone, "fake-alone", true, "after the run, measure the fake Asterisk's heap alone with the same number of callers")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the loaded period (the whole process) to this file")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return c, err
	} else if err != nil {
		return c, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %q", fs.Arg(0))
	}
	return c, c.check()
}

func (c config) check() error {
	switch {
	case c.Callers < 1:
		return usagef("--callers must be at least 1")
	case c.Rate <= 0:
		return usagef("--rate must be positive")
	case c.Consoles < 1:
		return usagef("--consoles must be at least 1 (the first stream also tracks the callers)")
	case c.Browsers < 0 || c.Concurrency < 1 || c.Cycles < 0 || c.MaxOnAir < 1:
		return usagef("--browsers, --cycles must not be negative; --concurrency, --max-on-air must be at least 1")
	case c.PromoteEvery <= 0 || c.HangupEvery < 0 || c.Duration <= 0:
		return usagef("--promote-every and --duration must be positive, --hangup-every not negative")
	}
	return nil
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
