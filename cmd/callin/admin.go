package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/callin-radio/callin/internal/phonebook"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// openStore opens and migrates the database named by --database-url.
func openStore(ctx context.Context, dbURL string) (*postgres.Store, error) {
	if dbURL == "" {
		return nil, usagef("--database-url (CALLIN_DATABASE_URL) is required")
	}
	store, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", redactSecrets(err, dbURL))
	}
	if err := postgres.Migrate(ctx, store.Pool()); err != nil {
		store.Close()
		return nil, fmt.Errorf("database: %w", redactSecrets(err, dbURL))
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

const userUsage = `Usage: callin user add|passwd|role|phone|delete|list [flags] NAME

  add NAME             add a console user (asks for the password; --phone sets their phone)
  passwd NAME          set a user's password and end their sessions
  role NAME            give a user another role (--role)
  phone NAME ENDPOINT  set the phone callin rings when the user screens a caller,
                       an Asterisk endpoint such as PJSIP/screener1 (--clear removes it)
  delete NAME          delete a user
  list                 list the users and their phones

Run 'callin user <subcommand> -h' for its flags.
`

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env envFunc) error {
	sub, err := subcommand("user", args, []string{"add", "passwd", "role", "phone", "delete", "list"}, userUsage, stdout, stderr)
	if sub == "" {
		return err
	}
	if sub == "phone" {
		return cmdUserPhone(ctx, args[1:], stdout, stderr, env)
	}
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "PostgreSQL URL")
	var role *string
	if sub == "add" || sub == "role" {
		role = fs.String("role", "producer", "admin, producer, screener or host")
	}
	pwStdin := new(bool)
	if sub == "add" || sub == "passwd" {
		fs.BoolVar(pwStdin, "password-stdin", false, "read the password from the first line of standard input instead of asking")
	}
	phone := new(string)
	if sub == "add" {
		phone = fs.String("phone", "", "the user's phone, rung when they screen a caller: an Asterisk endpoint such as PJSIP/screener1")
	}
	name, err := parseNamed(fs, args[1:], env, "user")
	if err != nil {
		return err
	}
	// The role and the phone are checked before a password is asked for.
	if *phone != "" {
		if *phone, err = queue.ParseEndpoint(*phone); err != nil {
			return usagef("--phone: %v", err)
		}
	}
	r, store, err := openForRole(ctx, *dbURL, role)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "add", "passwd":
		if err := setPassword(ctx, store, sub == "add", name, r, stdin, stdout, *pwStdin); err != nil || *phone == "" {
			return err
		}
		if err := setPhone(ctx, store, name, *phone, stdout); err != nil {
			return fmt.Errorf("user %s added without a phone (set it with 'callin user phone'): %w", name, err)
		}
	case "role":
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
		return listUsers(ctx, store, stdout)
	}
	return nil
}

// setPassword adds a user (add) or changes a user's password.
func setPassword(ctx context.Context, store *postgres.Store, add bool, name string, r auth.Role, stdin io.Reader, stdout io.Writer, fromStdin bool) error {
	pw, err := readPassword(stdin, stdout, fromStdin)
	if err != nil {
		return err
	}
	if add {
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
	return nil
}

func listUsers(ctx context.Context, store *postgres.Store, stdout io.Writer) error {
	users, err := store.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tPHONE\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, cmp.Or(u.Phone, "-"), u.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// cmdUserPhone is `callin user phone [flags] NAME ENDPOINT` and
// `callin user phone --clear [flags] NAME`.
func cmdUserPhone(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) error {
	fs := flag.NewFlagSet("user phone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "PostgreSQL URL")
	clearPhone := fs.Bool("clear", false, "remove the user's phone (give no ENDPOINT)")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	want := []string{"user name", "endpoint"}
	switch {
	case *clearPhone && fs.NArg() == 2 && !strings.HasPrefix(fs.Arg(1), "-"):
		return usagef("user phone: --clear takes no endpoint (got %q)", fs.Arg(1))
	case *clearPhone:
		want = want[:1]
	case fs.NArg() == 1:
		return usagef("user phone: the endpoint is missing (give one, such as PJSIP/screener1, or --clear to remove the phone)")
	}
	got, err := checkArgs(fs, want...)
	if err != nil {
		return err
	}
	name, endpoint := got[0], ""
	if !*clearPhone {
		if endpoint, err = queue.ParseEndpoint(got[1]); err != nil {
			return usagef("user phone: %v", err)
		}
	}
	store, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	return setPhone(ctx, store, name, endpoint, stdout)
}

// setPhone sets (or, given "", clears) a user's phone and says so.
func setPhone(ctx context.Context, store *postgres.Store, name, endpoint string, stdout io.Writer) error {
	n, err := auth.UserName(name)
	if err != nil {
		return err
	}
	ep, err := store.SetUserPhone(ctx, n, endpoint)
	if err != nil {
		return err
	}
	if ep == "" {
		fmt.Fprintf(stdout, "%s has no phone now\n", n)
		return nil
	}
	fmt.Fprintf(stdout, "%s's phone is %s (a running callin rings it within %s)\n", n, ep, phonebook.Every)
	return nil
}

const tokenUsage = `Usage: callin token create|revoke|list [flags] NAME

  create NAME   create an API token for show automation and print it, this once
  revoke NAME   revoke a token
  list          list the tokens (never their secrets)

Run 'callin token <subcommand> -h' for its flags.
`

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) error {
	sub, err := subcommand("token", args, []string{"create", "revoke", "list"}, tokenUsage, stdout, stderr)
	if sub == "" {
		return err
	}
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "PostgreSQL URL")
	var role, by *string
	if sub == "create" {
		role = fs.String("role", "producer", "the token's role: admin, producer, screener or host")
		by = fs.String("by", cmp.Or(env("USER"), "cli"), "who creates the token (kept with it)")
	}
	name, err := parseNamed(fs, args[1:], env, "token")
	if err != nil {
		return err
	}
	r, store, err := openForRole(ctx, *dbURL, role)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "create":
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
		return listTokens(ctx, store, stdout)
	}
	return nil
}

func listTokens(ctx context.Context, store *postgres.Store, stdout io.Writer) error {
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
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", printable(t.Name), t.Role, t.Prefix, printable(t.CreatedBy), last, revoked)
	}
	return tw.Flush()
}

// printable is s as a table cell: quoted, with escapes, if it has a
// character that is not printable or a tab (a name made before names were
// checked must not forge rows or move the cursor).
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '\t' {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}

// subcommand returns args[0] when it is one of subs. Asked for help (-h,
// --help or help) it prints usage to stdout and returns "" and no error;
// with no subcommand or an unknown one it prints usage to stderr and
// returns "" and a usage error.
func subcommand(cmd string, args, subs []string, usage string, stdout, stderr io.Writer) (string, error) {
	if len(args) > 0 {
		switch a := args[0]; {
		case slices.Contains(subs, a):
			return a, nil
		case a == "-h" || a == "-help" || a == "--help" || a == "help":
			fmt.Fprint(stdout, usage)
			return "", nil
		}
	}
	fmt.Fprint(stderr, usage)
	want := strings.Join(subs[:len(subs)-1], ", ") + " or " + subs[len(subs)-1]
	if len(args) == 0 {
		return "", usagef("%s: want %s", cmd, want)
	}
	return "", usagef("%s: unknown subcommand %q (want %s)", cmd, args[0], want)
}

// parseNamed parses a user or token subcommand's flags and returns the
// NAME after them; list takes none.
func parseNamed(fs *flag.FlagSet, args []string, env envFunc, kind string) (string, error) {
	if err := parseFlags(fs, args, env); err != nil {
		return "", err
	}
	if strings.HasSuffix(fs.Name(), " list") {
		_, err := checkArgs(fs)
		return "", err
	}
	got, err := checkArgs(fs, kind+" name")
	if err != nil {
		return "", err
	}
	return got[0], nil
}

// checkArgs returns the arguments after fs's flags, one for each of want
// ("user name", "endpoint"), or a usage error naming the one missing or
// the first one too many.
func checkArgs(fs *flag.FlagSet, want ...string) ([]string, error) {
	got := fs.Args()
	switch {
	case len(want) == 0 && len(got) > 0:
		return nil, usagef("%s: takes no name (got %q)", fs.Name(), got[0])
	case len(got) < len(want):
		return nil, usagef("%s: the %s is missing", fs.Name(), want[len(got)])
	case len(got) > len(want):
		// The flag package stops at the first argument: a flag after it
		// would be ignored.
		last := strings.Fields(want[len(want)-1])
		return nil, usagef("%s: %q after the %s: flags go before it", fs.Name(), got[len(want)], last[len(last)-1])
	}
	return got, nil
}

// openForRole checks --role, when the subcommand has it, then opens the
// store.
func openForRole(ctx context.Context, dbURL string, role *string) (auth.Role, *postgres.Store, error) {
	var r auth.Role
	if role != nil {
		var err error
		if r, err = auth.ParseRole(*role); err != nil {
			return r, nil, usagef("--role: %v", err)
		}
	}
	store, err := openStore(ctx, dbURL)
	return r, store, err
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
