package cluster

import (
	"context"
	"time"

	"github.com/callin-radio/callin/postgres"
)

// The nodes a show was given while it ran (issue 24: "a node added while
// the show runs takes callers at once"): Controls.AddShowNode adds one
// (broadcast.App.AddShowNode) and saves it (postgres show_nodes,
// migration 010); RestoreNodes gives them to the shows again when callin
// starts, before RestoreStudios (a studio named may be such a node).

// AddShowNode makes the show take the callers of node too, adding the
// node (at its ARI URL) when callin has none of that name
// (broadcast.App.AddShowNode), and saves it, to be added again at a
// restart (ShowState.RestoreNodes). The node is added whether or not the
// save succeeds; a failed save is returned (the API answers 500: the
// node takes callers until callin restarts).
func (c Controls) AddShowNode(ctx context.Context, show, node, url string) error {
	if err := c.App.AddShowNode(ctx, show, node, url); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return c.state.store.SaveShowNode(sctx, show, node, url)
}

// RestoreNodes gives each of shows, at a start of callin, the nodes it
// was given while it last ran (Controls.AddShowNode), in the order they
// were given. A node refused (its URL no longer accepted, the store not
// answering) is logged and left: the show runs with the others. A node
// that is down is not refused: it takes the show's callers once it
// connects.
func (k *ShowState) RestoreNodes(ctx context.Context, shows []string) {
	for _, show := range shows {
		nodes, err := k.store.ShowNodes(ctx, show)
		if err != nil {
			k.log.Warn("the nodes the show was given were not read: it runs on its --show nodes", "show", show, "err", err)
			continue
		}
		for _, n := range nodes {
			k.restoreNode(ctx, show, n)
		}
	}
}

func (k *ShowState) restoreNode(ctx context.Context, show string, n postgres.ShowNode) {
	if err := k.app.AddShowNode(ctx, show, n.Node, n.URL); err != nil {
		k.log.Warn("a node the show was given was refused", "show", show, "node", n.Node, "url", n.URL, "err", err)
		return
	}
	k.log.Info("the show takes a node it was given again", "show", show, "node", n.Node, "since", n.AddedAt)
}
