package cluster

import (
	"context"
	"strings"
	"testing"

	"github.com/callin-radio/callin/internal/blocklist"
	"github.com/callin-radio/callin/postgres/pgtest"
)

// TestRestoreNodes: the nodes saved for a show (show_nodes) are given to
// it again at a start, in the order they were given; the last URL saved
// for a node is the one kept; another show's are not its.
func TestRestoreNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	addShow(t, store, "morning", "A")
	addShow(t, store, "drive", "A")
	for _, n := range [][3]string{{"morning", "C", "http://10.0.0.7:8088"}, {"morning", "B", "http://10.0.0.6:8088"},
		{"drive", "D", "http://10.0.0.8:8088"}, {"morning", "C", "http://10.0.0.9:8088"}} {
		if err := store.SaveShowNode(ctx, n[0], n[1], n[2]); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SaveShowNode(ctx, "nope", "B", "http://x"); err == nil {
		t.Fatal("a node saved for a show that does not exist")
	}
	shows := newFakeShows("morning", "drive")
	list, err := blocklist.Load(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	k := NewShowState(store, shows, list, quiet())
	k.RestoreNodes(ctx, []string{"morning"})
	if got, want := strings.Join(shows.nodes, ","), "morning=C@http://10.0.0.9:8088,morning=B@http://10.0.0.6:8088"; got != want {
		t.Fatalf("nodes given %s, want %s", got, want)
	}
}
