// Package pgtest gives each test its own real PostgreSQL database, cloned
// from a migrated template in milliseconds; see Main and URL.
//
// The server is the one at TEST_DATABASE_URL, or else a throwaway cluster
// (package pgcluster) started on first use and stopped by Main. A database
// whose test failed is kept and its URL logged.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/migrations"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgcluster"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Cluster, ClusterConfig and StartCluster are pgcluster's, for tests that
// need a server of their own (to stop it, or to measure with fsync on).
type (
	Cluster       = pgcluster.Cluster
	ClusterConfig = pgcluster.Config
)

// StartCluster is pgcluster.Start.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	return pgcluster.Start(ctx, cfg)
}

// server is the database server of this test binary: the one at
// TEST_DATABASE_URL, or a throwaway cluster started on first use.
type server struct {
	cluster  *pgcluster.Cluster // nil with TEST_DATABASE_URL
	dir      string             // the cluster's temporary folder
	adminURL string
	template string
	err      error
}

var (
	// mu guards srv: the one server of the test binary, started lazily.
	mu  sync.Mutex
	srv *server
)

// Main runs the package's tests and then stops the cluster they started.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// When a test failed, the cluster's folder is kept (the message says where
// and how to start it again) so its kept databases can be inspected.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	s := srv
	mu.Unlock()
	if s != nil && s.cluster != nil {
		_ = s.cluster.Stop()
		if code != 0 {
			fmt.Fprintf(os.Stderr, "pgtest: tests failed; the cluster is kept in %s; start it with:\n\t%s\n", s.dir, s.cluster.StartCommand())
		} else {
			os.RemoveAll(s.dir)
		}
	}
	os.Exit(code)
}

// getServer returns this binary's server: TEST_DATABASE_URL's, or a
// throwaway cluster started now if none is running. Tests stopping it
// would disturb the others: a test that needs an outage starts its own
// cluster with StartCluster.
func getServer() *server {
	mu.Lock()
	defer mu.Unlock()
	if srv != nil {
		return srv
	}
	srv = &server{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		srv.adminURL = u
	} else {
		// /tmp, not t.TempDir: the cluster outlives any one test, and
		// the postgres user must be able to reach the folder.
		srv.dir, srv.err = os.MkdirTemp("", "callin-pg-")
		if srv.err != nil {
			return srv
		}
		srv.cluster, srv.err = pgcluster.Start(ctx, pgcluster.Config{Dir: srv.dir, Fast: true})
		if errors.Is(srv.err, pgcluster.ErrNoPostgres) {
			srv.err = fmt.Errorf("%w, or set TEST_DATABASE_URL to a server where you may create databases", srv.err)
		}
		if srv.err != nil {
			os.RemoveAll(srv.dir)
			return srv
		}
		srv.adminURL = srv.cluster.URL()
	}
	srv.template, srv.err = makeTemplate(ctx, srv.adminURL)
	return srv
}

// makeTemplate creates the migrated template database, named after a hash
// of the migrations so a server shared by test runs of different versions
// keeps one per version. An advisory lock keeps test binaries sharing a
// server from building it twice.
func makeTemplate(ctx context.Context, adminURL string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		fmt.Fprintf(h, "%s\x00%s\x00", path, b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := "callin_template_" + hex.EncodeToString(h.Sum(nil))[:12]

	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect to %s: %w", adminURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('callin pgtest template'))`); err != nil {
		return "", err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Build under another name and rename, so a template that failed
	// half-way is never used.
	building := name + "_new"
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", fmt.Errorf("pgtest: create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(adminURL, building))
	if err != nil {
		return "", err
	}
	err = postgres.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("pgtest: migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

// withDatabase returns adminURL pointing at database name instead.
func withDatabase(adminURL, name string) string {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// A key=value connection string: a later key wins.
		return adminURL + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

// URL returns the URL of a new database for this test, migrated and empty.
// It is dropped when the test ends, unless the test failed: then it is kept
// and its URL logged. It fails the test, saying how to get PostgreSQL, if
// there is none.
func URL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "")
}

// EmptyURL is URL for a database without callin's schema: for testing
// migrations.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "template0")
}

func newDatabase(t testing.TB, template string) string {
	t.Helper()
	s := getServer()
	if s.err != nil {
		t.Fatalf("pgtest: no database for tests: %v", s.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := dbName(t.Name())
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if template == "" {
		template = s.template
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dbURL := withDatabase(s.adminURL, name)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: kept database %s", dbURL)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.adminURL)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// NewDB returns a pool on a new database for this test (see URL), closed
// when the test ends.
func NewDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := URL(t)
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewStore returns a postgres.Store on a new database for this test.
func NewStore(t testing.TB) *postgres.Store {
	t.Helper()
	return postgres.New(NewDB(t))
}

// dbName makes a database name from a test name: lower-case letters,
// digits and _, with a random suffix, within Postgres's 63 bytes.
func dbName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return b.String() + "_" + hex.EncodeToString(rnd[:])
}
