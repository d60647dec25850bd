package control

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// TestTableRows: every row is served somewhere (the console, the API or
// both), with what serving it there needs, and no two rows share a name
// or a route.
func TestTableRows(t *testing.T) {
	names, routes := map[string]bool{}, map[string]bool{}
	for i, c := range Table {
		if c.Console == "" && c.Path == "" {
			t.Errorf("row %d is neither on the console nor in the API", i)
		}
		if c.Perm == "" || c.Do == nil {
			t.Errorf("row %d (%q %q): want a permission and Do", i, c.Console, c.Path)
		}
		if c.Console != "" {
			if c.Said == nil || names[c.Console] {
				t.Errorf("console control %q: want words (Said) and a name of its own", c.Console)
			}
			names[c.Console] = true
		}
		if c.Path != "" {
			route := c.Method + " " + c.Path
			if c.Method == "" || c.Answer == nil || routes[route] {
				t.Errorf("API control %q: want a method, an answer and a route of its own", route)
			}
			routes[route] = true
		}
	}
}

// linesOnly is Controls that opens and closes the lines, remembering
// how; any other control panics (nil interface).
type linesOnly struct {
	Controls
	open []bool
}

func (l *linesOnly) SetLinesOpen(_ string, open bool) error {
	l.open = append(l.open, open)
	return nil
}

// request is a POST made by a principal of role.
func request(role auth.Role) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	p := auth.Principal{Kind: auth.KindUser, Name: "ann", Role: role}
	return r.WithContext(auth.WithPrincipal(r.Context(), p))
}

func named(t *testing.T, console string) Control {
	t.Helper()
	for _, c := range Table {
		if c.Console == console {
			return c
		}
	}
	t.Fatalf("no console control %q", console)
	return Control{}
}

// TestRunAuditsWhoDidIt: Run checks the permission first, then does the
// control through the audit, which logs who did what to which show; a
// role without the permission changes nothing and logs nothing.
func TestRunAuditsWhoDidIt(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	ctl := &linesOnly{}
	c, sh := named(t, "open-lines"), Show{Key: "morning"}

	r := request(auth.RoleHost)
	if _, _, err := c.Run(r, Audit(ctl, log, r), sh, c.Form); !errors.Is(err, shared.ErrForbidden) {
		t.Fatalf("host opening the lines: got %v, want forbidden", err)
	}
	if len(ctl.open) != 0 || logged.Len() != 0 {
		t.Fatalf("a refused control did %v and logged %q", ctl.open, logged.String())
	}

	r = request(auth.RoleProducer)
	in, res, err := c.Run(r, Audit(ctl, log, r), sh, c.Form)
	if err != nil || len(ctl.open) != 1 || !ctl.open[0] {
		t.Fatalf("producer opening the lines: err %v, calls %v", err, ctl.open)
	}
	if got := c.Said(in, res); got != "Lines open." {
		t.Errorf("console words: %q", got)
	}
	for _, want := range []string{"show control", "show=morning", "action=lines", "user=ann", "role=producer", "open=true"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("audit line %q lacks %q", logged.String(), want)
		}
	}
}

// TestAirLimitAudited: the consoles' on-air warning, which is not
// broadcast's, is set through the show and logged like the rest.
func TestAirLimitAudited(t *testing.T) {
	var logged bytes.Buffer
	var set time.Duration
	r := request(auth.RoleProducer)
	sh := Show{Key: "morning", SetAirLimit: func(d time.Duration) { set = d }}
	Audit(nil, slog.New(slog.NewTextHandler(&logged, nil)), r).SetAirLimit(sh, 7*time.Minute)
	if set != 7*time.Minute || !strings.Contains(logged.String(), "action=air_limit") || !strings.Contains(logged.String(), "minutes=7") {
		t.Fatalf("set %v, logged %q", set, logged.String())
	}
}
