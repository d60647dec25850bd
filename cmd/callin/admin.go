package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/web/auth"
)

// openStore opens and migrates the database named by --database-url.
func openStore(ctx context.Context, dbURL string) (*postgres.Store, error) {
	if dbURL == "" {
		return nil, usagef("--database-url (CALLIN_DATABASE_URL) is required")
	}
	store, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", redact(err))
	}
	if err := postgres.Migrate(ctx, store.Pool()); err != nil {
		store.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return store, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "PostgreSQL URL")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	store, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	cur, known, err := postgres.SchemaVersion(ctx, store.Pool())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d of %d\n", cur, known)
	return nil
}

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env envFunc) error {
	if len(args) == 0 {
		return usagef("user: want add, passwd, role, delete or list")
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "PostgreSQL URL")
	role := fs.String("role", "producer", "admin, producer, screener or host")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of asking")
	if err := parseFlags(fs, args[1:], env); err != nil {
		return err
	}
	name := fs.Arg(0)
	if sub != "list" && name == "" {
		return usagef("user %s: the user name is missing", sub)
	}
	store, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "add", "passwd":
		r, err := auth.ParseRole(*role)
		if err != nil {
			return usagef("--role: %v", err)
		}
		pw, err := readPassword(stdin, stdout, *pwStdin)
		if err != nil {
			return err
		}
		if sub == "add" {
			if err := auth.AddUser(ctx, store, name, r, pw); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %s added (%s)\n", name, r)
			return nil
		}
		if err := auth.SetPassword(ctx, store, name, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions are ended\n", name)
	case "role":
		r, err := auth.ParseRole(*role)
		if err != nil {
			return usagef("--role: %v", err)
		}
		if err := auth.SetRole(ctx, store, name, r); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", name, r)
	case "delete":
		if err := auth.DeleteUser(ctx, store, name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s deleted\n", name)
	case "list":
		users, err := store.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role, u.CreatedAt.Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	default:
		return usagef("user: unknown subcommand %q (want add, passwd, role, delete or list)", sub)
	}
	return nil
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) error {
	if len(args) == 0 {
		return usagef("token: want create, revoke or list")
	}
	sub := args[0]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "PostgreSQL URL")
	role := fs.String("role", "producer", "the token's role: admin, producer, screener or host")
	by := fs.String("by", cmp.Or(env("USER"), "cli"), "who creates the token (kept with it)")
	if err := parseFlags(fs, args[1:], env); err != nil {
		return err
	}
	name := fs.Arg(0)
	if sub != "list" && name == "" {
		return usagef("token %s: the token name is missing", sub)
	}
	store, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "create":
		r, err := auth.ParseRole(*role)
		if err != nil {
			return usagef("--role: %v", err)
		}
		tok, err := auth.CreateToken(ctx, store, name, r, *by)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "token %s created (%s); it is shown this once:\n", name, r)
		fmt.Fprintln(stdout, tok)
	case "revoke":
		if err := auth.RevokeToken(ctx, store, name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", name)
	case "list":
		toks, err := store.ListTokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tPREFIX\tCREATED BY\tLAST USED\tREVOKED")
		for _, t := range toks {
			last, revoked := "-", ""
			if !t.LastUsed.IsZero() {
				last = t.LastUsed.Format("2006-01-02 15:04")
			}
			if !t.Revoked.IsZero() {
				revoked = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", t.Name, t.Role, t.Prefix, t.CreatedBy, last, revoked)
		}
		return tw.Flush()
	default:
		return usagef("token: unknown subcommand %q (want create, revoke or list)", sub)
	}
	return nil
}

// readPassword reads a password from standard input: the first line when
// fromStdin, else after a prompt (the terminal echoes; use --password-stdin
// from a secrets manager in scripts).
func readPassword(stdin io.Reader, stdout io.Writer, fromStdin bool) (string, error) {
	if !fromStdin {
		fmt.Fprint(stdout, "password (at least 12 characters): ")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := auth.CheckPassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}
