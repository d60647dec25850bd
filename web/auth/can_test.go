package auth_test

import (
	"testing"

	"github.com/callin-radio/callin/web/auth"
)

// allActions is every action by name, as the brief lists them (and
// air_limit, a show-wide setting: issue 10): written out here so the test
// does not trust auth.Actions.
var allActions = []auth.Action{"view", "screen", "screen_for", "ready", "notes", "promote", "take_next",
	"pick_next", "move_to_top", "hold", "mute", "lock", "drop_waiting", "drop_on_air",
	"talkback", "lines", "recording", "announce_interval", "air_limit", "block", "message", "admin"}

func TestCan(t *testing.T) {
	t.Parallel()
	allowed := map[auth.Role][]auth.Action{
		auth.RoleAdmin: allActions,
		auth.RoleProducer: {"view", "screen", "screen_for", "ready", "notes", "promote", "take_next",
			"pick_next", "move_to_top", "hold", "mute", "lock", "drop_waiting", "drop_on_air",
			"talkback", "lines", "recording", "announce_interval", "air_limit", "block", "message"},
		auth.RoleScreener: {"view", "screen", "ready", "notes", "drop_waiting", "message"},
		auth.RoleHost:     {"view", "take_next", "mute", "lock", "drop_on_air", "message"},
		"janitor":         nil,
		"":                nil,
	}
	for role, actions := range allowed {
		may := map[auth.Action]bool{}
		for _, a := range actions {
			may[a] = true
		}
		for _, a := range append(allActions, "fly", "") {
			if got := auth.Can(role, a); got != may[a] {
				t.Errorf("Can(%q, %q): got %v, want %v", role, a, got, may[a])
			}
		}
	}

	t.Run("Actions", func(t *testing.T) {
		got := auth.Actions()
		if len(got) != len(allActions) {
			t.Fatalf("got %d actions, want %d", len(got), len(allActions))
		}
		for i, a := range got {
			if a != allActions[i] || !a.Valid() {
				t.Errorf("action %d: got %q, want %q", i, a, allActions[i])
			}
		}
	})

	t.Run("ParseRole", func(t *testing.T) {
		for _, r := range []auth.Role{auth.RoleAdmin, auth.RoleProducer, auth.RoleScreener, auth.RoleHost} {
			if got, err := auth.ParseRole(string(r)); err != nil || got != r {
				t.Errorf("ParseRole(%q): got %q, %v", r, got, err)
			}
		}
		for _, s := range []string{"", "Admin", "root"} {
			if _, err := auth.ParseRole(s); err == nil {
				t.Errorf("ParseRole(%q): got nil error", s)
			}
		}
	})
}
