// Command callin is the radio call-in broadcast queue service: one binary
// for the service (serve), the embedded demo (demo), database migrations
// (migrate), and user and token administration (user, token).
//
// Run `callin help` for the commands and `callin <command> -h` for flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "callin:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `callin: a radio call-in broadcast queue on Asterisk ARI

Usage:
  callin demo     [flags]   run everything on an embedded default: fake Asterisk,
                            simulated callers, a local PostgreSQL (needs initdb)
  callin serve    [flags]   run the service against real Asterisk nodes
  callin migrate  [flags]   apply the database migrations and exit
  callin user add|passwd|role|delete|list [flags] NAME
  callin token create|revoke|list [flags] NAME

Every flag can also be set from the environment: --database-url is
CALLIN_DATABASE_URL, --listen is CALLIN_LISTEN, and so on.
`

// run is main without the process: it parses args and runs one command
// until ctx ends.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	env := envFunc(getenv)
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr, env)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr, env)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr, env)
	case "user":
		return cmdUser(ctx, rest, stdin, stdout, stderr, env)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr, env)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", cmd)
}

// envFunc reads the environment (a function so tests pass their own).
type envFunc func(string) string

// parseFlags sets every flag of fs that was not given on the command line from
// CALLIN_<NAME> (dashes to underscores, upper case), then parses args.
func parseFlags(fs *flag.FlagSet, args []string, env envFunc) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "CALLIN_" + envName(f.Name)
		if v := env(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = usagef("%s: %v", name, e)
			}
		}
	})
	return err
}

func envName(flagName string) string {
	b := []byte(flagName)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
