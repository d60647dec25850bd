package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// TestAddNodeWhileRunning: the service runs show morning on node main; an
// admin adds node east (POST /api/v1/shows/morning/nodes, its ARI
// password from CALLIN_ARI_PASSWORD_EAST) and a caller arriving there is
// held at once. Restarted, the service connects east again (show_nodes)
// and holds the next caller there.
func TestAddNodeWhileRunning(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	main, east := aritest.NewServer(aritest.Options{}), aritest.NewServer(aritest.Options{})
	t.Cleanup(main.Close)
	t.Cleanup(east.Close)
	env := envMap(map[string]string{"CALLIN_ARI_USER_EAST": east.User(), "CALLIN_ARI_PASSWORD_EAST": east.Password()})
	nodes := func(c *stackConfig) {
		c.NodeSpec = func(name, url string) (nodeSpec, error) { return parseNode(name, url, "callin", "", env) }
	}
	s := startTargetOn(t, dbURL, main, "morning", web.DefaultLimits(), 0, nodes)
	body := `{"name":"east","url":"` + east.URL() + `"}`
	for _, tc := range []struct {
		role auth.Role
		want int
	}{{auth.RoleProducer, 403}, {auth.RoleAdmin, 200}} {
		req, _ := http.NewRequest("POST", s.base+"/api/v1/shows/morning/nodes", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.token(t, "ops-"+string(tc.role), tc.role))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Fatalf("POST nodes as %s: %d, want %d", tc.role, res.StatusCode, tc.want)
		}
	}
	heldOn(t, east, "+12025550101")
	s.stop(t)
	startTargetOn(t, dbURL, main, "morning", web.DefaultLimits(), 0, nodes)
	heldOn(t, east, "+12025550102")
}

// heldOn waits until callin drives pbx, dials show morning there and
// waits until the caller is in a bridge.
func heldOn(t *testing.T, pbx *aritest.Server, number string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		t.Fatal(err)
	}
	call, err := pbx.Call(ctx, aritest.CallOptions{Args: []string{"morning"}, Number: number})
	if err != nil {
		t.Fatal(err)
	}
	for st, _ := call.State(); st.Bridge == ""; st, _ = call.State() {
		select {
		case <-ctx.Done():
			t.Fatalf("caller %s never held", number)
		case <-time.After(10 * time.Millisecond): // the fake's state has no event of its own
		}
	}
}
