package main

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
)

// claimEvery is how often a standing-by instance tries to claim a node,
// and how often the driving one checks its claim.
const claimEvery = 2 * time.Second

// claimTimeout bounds one try to claim a node: a database that does not
// answer is tried again, not waited on.
const claimTimeout = 5 * time.Second

// nodeClaimer lets several callin instances share the database and the
// Asterisk nodes: each node is driven by the one instance that holds its
// claim (postgres.NodeClaim, an advisory lock), and the others stand by
// and take over when it goes. Asterisk itself allows one WebSocket per
// application: a second instance connecting would replace the first
// (ApplicationReplaced: "the newer WebSocket wins", ../shared/ari-api-docs
// events.json; no recorded trace has it), so without claims two instances
// would fight.
//
// A database outage never stops the instance driving a node: the claim is
// kept while the database does not answer, and taken again once it does.
// If another instance holds it by then, this one stands by.
type nodeClaimer struct {
	store *postgres.Store
	node  string
	every time.Duration
	log   *slog.Logger
	// takeOver runs when this instance claims the node after another
	// held it: the shows carry on with their last settings (showState).
	takeOver func(ctx context.Context)
	// another: another instance held the claim since this one last did.
	another atomic.Bool
	// advertise is where producers' requests to other instances for this
	// node's shows are passed on to (stackConfig.Advertise); nil: nowhere.
	advertise func() string
}

// alive is how long the claim's connection may go unchecked before the
// database ends it: five checks missed, and never under 10 s.
func (c *nodeClaimer) alive() time.Duration { return max(5*c.every, 10*time.Second) }

func (c *nodeClaimer) url() string {
	if c.advertise == nil {
		return ""
	}
	return c.advertise()
}

// Claim blocks until this instance holds the node's claim (for
// broadcast.NodeConfig.Claim).
func (c *nodeClaimer) Claim(ctx context.Context) (<-chan struct{}, func(), error) {
	said := false
	for {
		actx, cancel := context.WithTimeout(ctx, claimTimeout)
		cl, err := c.store.ClaimNode(actx, c.node, c.url(), c.alive())
		cancel()
		if err == nil {
			if c.another.Swap(false) && c.takeOver != nil {
				c.takeOver(ctx)
			}
			lost, done := make(chan struct{}), make(chan struct{})
			go c.watch(ctx, cl, lost, done)
			return lost, func() { close(done) }, nil
		}
		if errors.Is(err, queue.ErrConflict) {
			c.another.Store(true)
		}
		if !said {
			if errors.Is(err, queue.ErrConflict) {
				c.log.Info("standing by: another callin instance drives this node", "node", c.node)
			} else {
				c.log.Warn("cannot claim the node; trying again", "node", c.node, "err", err)
			}
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(c.every):
		}
	}
}

// watch holds the claim until done: it checks it every c.every, claims
// again on a new connection when the old one is gone, and closes lost
// only when another instance holds the claim by then.
func (c *nodeClaimer) watch(ctx context.Context, cl *postgres.NodeClaim, lost, done chan struct{}) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	defer func() {
		if cl != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.every)
			cl.Release(rctx)
			cancel()
		}
	}()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, c.every)
		if cl != nil && cl.Check(cctx) == nil {
			cancel()
			continue
		}
		if cl != nil {
			c.log.Warn("the node's claim lost its database connection; claiming it again", "node", c.node)
			cl.Release(cctx)
			cl = nil
		}
		ncl, err := c.store.ClaimNode(cctx, c.node, c.url(), c.alive())
		cancel()
		switch {
		case err == nil:
			cl = ncl
		case errors.Is(err, queue.ErrConflict):
			c.another.Store(true)
			close(lost)
			return
		}
		// The database does not answer: keep driving the node.
	}
}

// claimNodes makes every node claimed (broadcast.NodeConfig.Claim): each
// gets a claimer like proto for its name, and takes its shows over with
// their last settings (from state, made after the nodes) when it claims the
// node from another instance.
func claimNodes(nodes []broadcast.NodeConfig, shows []broadcast.ShowConfig, proto *nodeClaimer, state func() *showState) {
	for i := range nodes {
		c := &nodeClaimer{store: proto.store, node: nodes[i].Name, every: proto.every, log: proto.log, advertise: proto.advertise}
		var onNode []string
		for _, sc := range shows {
			if sc.Node == c.node {
				onNode = append(onNode, sc.Key)
			}
		}
		c.takeOver = func(ctx context.Context) { state().takeOver(ctx, onNode) }
		nodes[i].Claim = c.Claim
	}
}
