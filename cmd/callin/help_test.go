package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestHelp: every command and subcommand prints its usage to stdout on -h
// or --help and succeeds (exit status 0), without touching a database.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string // in stdout
	}{
		{[]string{"serve"}, []string{"Usage: callin serve", "-database-url", "-nodes"}},
		{[]string{"demo"}, []string{"Usage: callin demo", "-listen", "-rate"}},
		{[]string{"migrate"}, []string{"Usage: callin migrate", "-database-url"}},
		{[]string{"user"}, []string{"Usage: callin user", "passwd NAME", "list"}},
		{[]string{"user", "add"}, []string{"Usage: callin user add [flags] NAME", "-role", "-password-stdin", "-phone"}},
		{[]string{"user", "passwd"}, []string{"Usage: callin user passwd", "-password-stdin"}},
		{[]string{"user", "role"}, []string{"Usage: callin user role", "-role"}},
		{[]string{"user", "phone"}, []string{"Usage: callin user phone [flags] NAME ENDPOINT", "callin user phone --clear [flags] NAME", "PJSIP, SIP, IAX2, DAHDI or Local", "-clear", "-database-url"}},
		{[]string{"user", "delete"}, []string{"Usage: callin user delete", "-database-url"}},
		{[]string{"user", "list"}, []string{"Usage: callin user list", "-database-url"}},
		{[]string{"token"}, []string{"Usage: callin token", "create NAME"}},
		{[]string{"token", "create"}, []string{"Usage: callin token create", "-role", "-by"}},
		{[]string{"token", "revoke"}, []string{"Usage: callin token revoke", "-database-url"}},
		{[]string{"token", "list"}, []string{"Usage: callin token list", "-database-url"}},
		{[]string{"prompts"}, []string{"Usage: callin prompts install|list", "install", "list"}},
		{[]string{"prompts", "install"}, []string{"Usage: callin prompts install", "-dir", "/var/lib/asterisk/sounds/en", "-force"}},
		{[]string{"prompts", "list"}, []string{"Usage: callin prompts list", "-dir"}},
	} {
		for _, flag := range []string{"-h", "--help"} {
			args := slices.Concat(tc.args, []string{flag})
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				var stdout, stderr strings.Builder
				err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, envMap(nil))
				if err != nil {
					t.Fatalf("got %v (exit status %d), want success", err, exitCode(err))
				}
				for _, w := range tc.want {
					if !strings.Contains(stdout.String(), w) {
						t.Errorf("stdout does not contain %q:\n%s", w, stdout.String())
					}
				}
				if stderr.Len() > 0 {
					t.Errorf("stderr: got %q, want nothing", stderr.String())
				}
			})
		}
	}
}

// TestHelpCommand: `callin help` lists the commands; `callin help CMD...`
// is `callin CMD... --help`.
func TestHelpCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "callin migrate  [flags]"},
		{[]string{"--help"}, "callin migrate  [flags]"},
		{[]string{"help", "token", "create"}, "Usage: callin token create"},
		{[]string{"help", "serve"}, "Usage: callin serve"},
		{[]string{"help"}, "callin prompts install|list"},
		{[]string{"help", "prompts", "install"}, "Usage: callin prompts install"},
		{[]string{"help", "user", "phone"}, "Usage: callin user phone"},
	} {
		var stdout strings.Builder
		err := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &strings.Builder{}, envMap(nil))
		if err != nil || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%v: got %v and\n%s\nwant success and %q", tc.args, err, stdout.String(), tc.want)
		}
	}
}

// TestUsageOnStderr: a mistake prints the usage to stderr and exits 2.
func TestUsageOnStderr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args      []string
		wantErr   string
		wantUsage string // in stderr
	}{
		{[]string{"user"}, "user: want add, passwd, role, phone, delete or list", "Usage: callin user"},
		{[]string{"user", "fly"}, `unknown subcommand "fly"`, "Usage: callin user"},
		{[]string{"token", "mint", "x"}, `unknown subcommand "mint"`, "Usage: callin token"},
		{[]string{"migrate", "--no-such-flag"}, "flag provided but not defined", "Usage: callin migrate"},
		{[]string{"user", "add", "--colour", "red", "alice"}, "flag provided but not defined", "Usage: callin user add"},
		{[]string{"user", "add", "alice", "--role", "admin"}, `"--role" after the name`, ""},
		{[]string{"user", "list", "alice"}, "takes no name", ""},
		{[]string{"token", "revoke"}, "token name is missing", ""},
		{[]string{"user", "phone"}, "user name is missing", ""},
		{[]string{"user", "phone", "alice"}, "the endpoint is missing", ""},
		{[]string{"user", "phone", "alice", "PJSIP/a", "--clear"}, `"--clear" after the endpoint`, ""},
		{[]string{"user", "phone", "--clear", "alice", "PJSIP/a"}, "--clear takes no endpoint", ""},
		{[]string{"user", "phone", "--clear", "alice", "--database-url", "x"}, `"--database-url" after the name`, ""},
		{[]string{"user", "phone", "alice", "PJSIP/a,30,tT"}, `endpoint "PJSIP/a,30,tT": want TECH/resource`, ""},
		{[]string{"user", "phone", "alice", "PJSIP/a&PJSIP/b"}, "want TECH/resource", ""},
		{[]string{"user", "add", "--phone", "PJSIP/a b", "alice"}, "--phone", ""},
		{[]string{"user", "phone", "--colour", "red"}, "flag provided but not defined", "Usage: callin user phone"},
		{[]string{"prompts"}, "prompts: want install or list", "Usage: callin prompts"},
		{[]string{"prompts", "play"}, `unknown subcommand "play"`, "Usage: callin prompts"},
		{[]string{"prompts", "install", "extra"}, "takes no arguments", ""},
		{[]string{"prompts", "list", "--force"}, "flag provided but not defined", "Usage: callin prompts list"},
	} {
		t.Run(fmt.Sprint(tc.args), func(t *testing.T) {
			t.Parallel()
			var stderr strings.Builder
			err := run(context.Background(), tc.args, strings.NewReader(""), &strings.Builder{}, &stderr, envMap(nil))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != 2 {
				t.Fatalf("got %v, want a usage error (exit status 2) containing %q", err, tc.wantErr)
			}
			if !strings.Contains(stderr.String(), tc.wantUsage) {
				t.Errorf("stderr does not contain %q:\n%s", tc.wantUsage, stderr.String())
			}
		})
	}
}
