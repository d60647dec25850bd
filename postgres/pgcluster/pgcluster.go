// Package pgcluster runs a private PostgreSQL server: for callin demo,
// callin-load, and (through postgres/pgtest) the tests.
//
// Start runs a cluster in a folder, on a free loopback port, from the
// binaries found on PATH or in /usr/lib/postgresql/*/bin (the highest
// version). As root it runs them as the postgres user, since PostgreSQL
// refuses to run as root. The server is told to shut down when the program
// that started it dies (Linux's parent death signal), so a crashed or killed
// program leaves no server behind.
//
// The package does not import testing: the product binary links it for the
// demo.
package pgcluster

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ErrNoPostgres means no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New("no PostgreSQL server found (initdb, pg_ctl and postgres on PATH or in /usr/lib/postgresql/*/bin): " +
	"install one with `apt-get install postgresql`")

// Config says where and how to run a cluster.
type Config struct {
	// Dir holds the cluster: data in Dir/data, the Unix socket in Dir,
	// the server log in Dir/postgres.log. A Dir that already holds a
	// cluster is started as it is. Keep the path short (the socket path
	// must fit in 107 bytes). Required.
	Dir string
	// Port is the loopback TCP port; 0 picks a free one.
	Port int
	// Fast turns off fsync, synchronous_commit and full_page_writes: for
	// throwaway test clusters only, never for data that matters.
	Fast bool
	// Logger gets start and stop messages (none when nil).
	Logger *slog.Logger
}

// Cluster is a running (or stopped) PostgreSQL cluster this process started.
type Cluster struct {
	cfg  Config
	bin  string              // folder of initdb, pg_ctl, postgres
	cred *syscall.Credential // the postgres user's, when we are root
	port int

	mu     sync.Mutex
	proc   *os.Process
	exited chan struct{} // closed when proc has exited

	tailMu sync.Mutex // guards tail, written by the log reader
	tail   []string   // last lines of the server's log
}

// Start creates the cluster in cfg.Dir if needed and starts it,
// returning when it accepts connections.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pgcluster: start cluster: no folder")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pgcluster: start cluster: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, fmt.Errorf("pgcluster: start cluster: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	}
	// A port picked free may be taken before the server binds it: try
	// a few.
	for try := 0; ; try++ {
		c.port = cfg.Port
		if c.port == 0 {
			if c.port, err = freePort(); err != nil {
				return nil, err
			}
		}
		if err := c.writeConfig(); err != nil {
			return nil, err
		}
		err = c.Start(ctx)
		if err == nil || cfg.Port != 0 || try == 2 || !strings.Contains(err.Error(), "could not bind") {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("postgres cluster started", "dir", dir, "port", c.port, "bin", bin)
	return c, nil
}

// FindBinDir returns the folder holding initdb, pg_ctl and postgres: from
// PATH, else the highest version in /usr/lib/postgresql/*/bin. It returns
// ErrNoPostgres if there is none.
func FindBinDir() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	// Debian links some tools into /usr/bin or /usr/local/bin: follow
	// the link to the folder with the server too.
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(version(b), version(a)) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root, and PostgreSQL refuses root: need the postgres user (apt-get install postgresql creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// command runs one of the PostgreSQL binaries as the cluster's user.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.cfg.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *Cluster) initdb(ctx context.Context) error {
	args := []string{"-D", c.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-instructions"}
	if c.cfg.Fast {
		args = append(args, "--no-sync")
	}
	if out, err := c.command(ctx, "initdb", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pgcluster: initdb: %w\n%s", err, out)
	}
	// Our settings live in callin.conf, rewritten at each start.
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: initdb: %w", err)
	}
	defer f.Close()
	_, err = io.WriteString(f, "\ninclude_if_exists = 'callin.conf'\n")
	return err
}

func (c *Cluster) writeConfig() error {
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nlc_messages = 'C'\n",
		c.port, strings.ReplaceAll(c.cfg.Dir, "'", "''"))
	if c.cfg.Fast {
		conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
	}
	path := filepath.Join(c.dataDir(), "callin.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return fmt.Errorf("pgcluster: config: %w", err)
	}
	if c.cred != nil {
		return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
	}
	return nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.cfg.Dir, "data") }

// readyLine is what the server logs once it accepts connections
// (lc_messages is C, so it is in English).
const readyLine = "database system is ready to accept connections"

// Start starts the cluster's server (again, after Stop) and returns when it
// accepts connections, or with the end of its log if it exits first.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		select {
		case <-c.exited:
		default:
			return errors.New("pgcluster: start: already running")
		}
	}
	logFile, err := os.OpenFile(filepath.Join(c.cfg.Dir, "postgres.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("pgcluster: start: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return fmt.Errorf("pgcluster: start: %w", err)
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.dataDir())
	cmd.Dir = c.cfg.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = pw, pw
	// Pdeathsig: when this process dies, however it dies, the server gets
	// SIGINT, PostgreSQL's fast shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGINT}

	started := make(chan error, 1)
	exited := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		// The parent death signal fires when the thread that started
		// the child exits, not the process: keep this thread until the
		// server has exited.
		runtime.LockOSThread()
		err := cmd.Start()
		pw.Close()
		started <- err
		if err != nil {
			pr.Close()
			return
		}
		<-logDone
		_ = cmd.Wait()
		close(exited)
	}()
	ready := make(chan struct{})
	go func() {
		defer close(logDone)
		c.readLog(pr, logFile, ready)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	c.proc, c.exited = cmd.Process, exited
	select {
	case <-ready:
		return nil
	case <-exited:
		return fmt.Errorf("pgcluster: postgres exited at start:\n%s", c.logTail())
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		<-exited
		return fmt.Errorf("pgcluster: start postgres: %w\n%s", ctx.Err(), c.logTail())
	}
}

// readLog copies the server's output to its log file and keeps its last
// lines, closing ready when the server accepts connections. It closes r and
// logFile when the server's output ends.
func (c *Cluster) readLog(r, logFile *os.File, ready chan<- struct{}) {
	defer r.Close()
	defer logFile.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	once := sync.Once{}
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logFile, line)
		c.appendTail(line)
		if strings.Contains(line, readyLine) {
			once.Do(func() { close(ready) })
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (c *Cluster) appendTail(line string) {
	c.tailMu.Lock()
	defer c.tailMu.Unlock()
	c.tail = append(c.tail, line)
	if len(c.tail) > 40 {
		c.tail = c.tail[len(c.tail)-40:]
	}
}

func (c *Cluster) logTail() string {
	c.tailMu.Lock()
	defer c.tailMu.Unlock()
	return strings.Join(c.tail, "\n")
}

// Stop shuts the server down with `pg_ctl stop -m fast` (connections are
// cut, the data is kept) and waits for it to exit. If pg_ctl fails, it
// sends the server process it started SIGINT. Stopping a stopped cluster
// does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	select {
	case <-c.exited:
		return nil
	default:
	}
	out, err := c.command(context.Background(), "pg_ctl", "stop", "-D", c.dataDir(), "-m", "fast", "-w").CombinedOutput()
	if err != nil {
		c.cfg.Logger.Warn("pg_ctl stop failed; signalling the server", "err", err, "output", string(out))
		_ = c.proc.Signal(syscall.SIGINT)
	}
	<-c.exited
	c.cfg.Logger.Info("postgres cluster stopped", "dir", c.cfg.Dir)
	return nil
}

// URL returns the URL of the cluster's postgres database, as the
// postgres superuser over loopback TCP.
func (c *Cluster) URL() string { return c.DatabaseURL("postgres") }

// DatabaseURL returns the URL of one of the cluster's databases.
func (c *Cluster) DatabaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// Dir returns the cluster's folder.
func (c *Cluster) Dir() string { return c.cfg.Dir }

// StartCommand returns a shell command that starts the cluster by hand,
// for messages about a cluster kept for inspection.
func (c *Cluster) StartCommand() string {
	cmd := fmt.Sprintf("%s start -D %s -l %s", filepath.Join(c.bin, "pg_ctl"), c.dataDir(), filepath.Join(c.cfg.Dir, "postgres.log"))
	if c.cred != nil {
		cmd = "runuser -u postgres -- " + cmd
	}
	return cmd
}
