// Command callin is the radio call-in broadcast queue service: one binary
// for the service (serve), the embedded demo (demo), database migrations
// (migrate), user and token administration (user, token), and the default
// prompts (prompts).
//
// Run `callin help` for the commands and `callin <command> -h` for flags.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "callin:", err)
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
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
  callin user add|passwd|role|phone|delete|list [flags] NAME
  callin token create|revoke|list [flags] NAME
  callin prompts install|list [flags]

Run 'callin <command> -h' (or 'callin help <command>') for a command's flags.
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
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr, env)
	case "demo":
		err = cmdDemo(ctx, rest, stdout, stderr, env)
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr, env)
	case "user":
		err = cmdUser(ctx, rest, stdin, stdout, stderr, env)
	case "token":
		err = cmdToken(ctx, rest, stdout, stderr, env)
	case "prompts":
		err = cmdPrompts(rest, stdout, stderr, env)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 { // help user add: user add --help
			return run(ctx, append(slices.Clone(rest), "--help"), stdin, stdout, stderr, getenv)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usagef("unknown command %q", cmd)
	}
	// Asked for help: the usage goes to stdout, and that is a success.
	var h helpRequest
	if errors.As(err, &h) {
		h.fs.SetOutput(stdout)
		h.fs.Usage()
		return nil
	}
	return err
}

// helpRequest is parseFlags' answer to -h or --help.
type helpRequest struct{ fs *flag.FlagSet }

func (helpRequest) Error() string { return "help requested" }

// synopsis is the head of each command's usage, by its flag set's name.
var synopsis = map[string]string{
	"serve":           "callin serve [flags]\n\nRuns the service against real Asterisk nodes.",
	"demo":            "callin demo [flags]\n\nRuns everything on an embedded default: a fake Asterisk, simulated callers,\na local PostgreSQL (needs initdb and pg_ctl), the console.",
	"migrate":         "callin migrate [flags]\n\nApplies the database migrations and prints the schema version.",
	"user add":        "callin user add [flags] NAME\n\nAdds a console user; asks for the password unless --password-stdin.\n--phone gives them the phone callin rings when they screen a caller.",
	"user passwd":     "callin user passwd [flags] NAME\n\nSets a user's password and ends their sessions.",
	"user role":       "callin user role --role ROLE [flags] NAME\n\nGives a user another role.",
	"user phone":      "callin user phone [flags] NAME ENDPOINT\n       callin user phone --clear [flags] NAME\n\nSets the phone callin rings when the user screens a caller: an Asterisk\nendpoint TECH/resource, TECH one of PJSIP, SIP, IAX2, DAHDI or Local, e.g.\nPJSIP/screener1 or Local/200@studio (never a dial string with options).\nA running callin rings the new phone within 30 s.",
	"user delete":     "callin user delete [flags] NAME\n\nDeletes a user.",
	"user list":       "callin user list [flags]\n\nLists the users and their phones.",
	"token create":    "callin token create [flags] NAME\n\nCreates an API token and prints it, this once.",
	"token revoke":    "callin token revoke [flags] NAME\n\nRevokes a token.",
	"token list":      "callin token list [flags]\n\nLists the tokens (never their secrets).",
	"prompts install": "callin prompts install [flags]\n\nInstalls callin's default English prompts (8 kHz mono 16-bit WAV) into\nAsterisk's sounds folder. A file already there is kept, so a station's own\nrecording is never overwritten, unless --force.",
	"prompts list":    "callin prompts list [flags]\n\nLists the prompts and what --dir holds for each: missing, the default, or\nthe station's own recording (and whether Asterisk can play it).",
}

// envFunc reads the environment (a function so tests pass their own).
type envFunc func(string) string

// parseFlags sets every flag of fs that was not given on the command line from
// CALLIN_<NAME> (dashes to underscores, upper case), then parses args.
// On -h or --help it returns a helpRequest, which run answers with the
// usage on stdout; on a bad flag it writes the usage to fs's output and
// returns a usage error.
func parseFlags(fs *flag.FlagSet, args []string, env envFunc) error {
	out := fs.Output()
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\nFlags:\n", cmp.Or(synopsis[fs.Name()], "callin "+fs.Name()+" [flags]"))
		fs.PrintDefaults()
	}
	// Quiet while parsing: the error is printed once, by main.
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		return helpRequest{fs}
	}
	if err != nil {
		fs.Usage()
		return usageError{err.Error()}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
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
