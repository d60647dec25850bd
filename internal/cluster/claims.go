package cluster

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

// ClaimEvery is how often a standing-by instance tries to claim a node,
// and how often the driving one checks its claim, unless told otherwise.
const ClaimEvery = 2 * time.Second

// claimTimeout bounds one try to claim a node: a database that does not
// answer is tried again, not waited on.
const claimTimeout = 5 * time.Second

// Claims lets several callin instances share the database and the
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
type Claims struct {
	store     *postgres.Store
	advertise string // where producers' requests for the nodes' shows are passed on to ("": nowhere)
	every     time.Duration
	log       *slog.Logger
	// takeOver runs when this instance claims a node after another held
	// it, with the node's shows (TakeOverWith).
	takeOver atomic.Pointer[func(ctx context.Context, shows []string)]
}

// NewClaims makes the claims of an instance reached at advertise (its
// URL, for the standby Proxy of other instances; "" for none), trying and
// checking every every (0: ClaimEvery).
func NewClaims(store *postgres.Store, advertise string, every time.Duration, log *slog.Logger) *Claims {
	if every <= 0 {
		every = ClaimEvery
	}
	return &Claims{store: store, advertise: advertise, every: every, log: log}
}

// TakeOverWith sets what runs when this instance claims a node after
// another instance held it, before the node is driven: f gets the node's
// shows (ShowState.TakeOver applies their last settings). Call it before
// the nodes' claims are first tried, that is before broadcast's App runs.
func (c *Claims) TakeOverWith(f func(ctx context.Context, shows []string)) {
	c.takeOver.Store(&f)
}

// Claim makes every node claimed: it sets each node's
// broadcast.NodeConfig.Claim, which blocks until this instance holds the
// node's claim, taking the node's shows over (TakeOverWith) when another
// instance held it.
func (c *Claims) Claim(nodes []broadcast.NodeConfig, shows []broadcast.ShowConfig) {
	for i := range nodes {
		n := &nodeClaim{Claims: c, node: nodes[i].Name}
		for _, sc := range shows {
			if sc.Node == n.node {
				n.shows = append(n.shows, sc.Key)
			}
		}
		nodes[i].Claim = n.claim
	}
}

// alive is how long a claim's connection may go unchecked before the
// database ends it: five checks missed, and never under 10 s.
func (c *Claims) alive() time.Duration { return max(5*c.every, 10*time.Second) }

// nodeClaim is one node's claim.
type nodeClaim struct {
	*Claims
	node  string
	shows []string // the node's shows, taken over with it
	// another: another instance held the claim since this one last did.
	another atomic.Bool
}

// claim blocks until this instance holds the node's claim (for
// broadcast.NodeConfig.Claim).
func (n *nodeClaim) claim(ctx context.Context) (<-chan struct{}, func(), error) {
	said := false
	for {
		actx, cancel := context.WithTimeout(ctx, claimTimeout)
		cl, err := n.store.ClaimNode(actx, n.node, n.advertise, n.alive())
		cancel()
		if err == nil {
			if f := n.takeOver.Load(); n.another.Swap(false) && f != nil {
				(*f)(ctx, n.shows)
			}
			lost, done := make(chan struct{}), make(chan struct{})
			go n.watch(ctx, cl, lost, done)
			return lost, func() { close(done) }, nil
		}
		if errors.Is(err, queue.ErrConflict) {
			n.another.Store(true)
		}
		if !said {
			if errors.Is(err, queue.ErrConflict) {
				n.log.Info("standing by: another callin instance drives this node", "node", n.node)
			} else {
				n.log.Warn("cannot claim the node; trying again", "node", n.node, "err", err)
			}
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(n.every):
		}
	}
}

// watch holds the claim until done: it checks it every n.every, claims
// again on a new connection when the old one is gone, and closes lost
// only when another instance holds the claim by then.
func (n *nodeClaim) watch(ctx context.Context, cl *postgres.NodeClaim, lost, done chan struct{}) {
	t := time.NewTicker(n.every)
	defer t.Stop()
	defer func() {
		if cl != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.every)
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
		cctx, cancel := context.WithTimeout(ctx, n.every)
		if cl != nil && cl.Check(cctx) == nil {
			cancel()
			continue
		}
		if cl != nil {
			n.log.Warn("the node's claim lost its database connection; claiming it again", "node", n.node)
			cl.Release(cctx)
			cl = nil
		}
		ncl, err := n.store.ClaimNode(cctx, n.node, n.advertise, n.alive())
		cancel()
		switch {
		case err == nil:
			cl = ncl
		case errors.Is(err, queue.ErrConflict):
			n.another.Store(true)
			close(lost)
			return
		}
		// The database does not answer: keep driving the node.
	}
}
