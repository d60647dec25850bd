package broadcast

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/callin-radio/callin/queue"
)

// Growing while the shows run (issue 24: "a node added while the show
// runs takes callers at once"): AddNode connects another Asterisk node,
// and SpanNode lets a running show take its callers. The App's nodes, a
// node's shows and a show's nodes are each one value replaced whole
// (copy on write) under App.spanMu and read without a lock, so nothing
// on the call path waits for them.

// span is the nodes a show takes callers from, the first studio first,
// and their holding parts by node name. Never changed once stored.
type span struct {
	nodes []*node
	holds map[string]*holding
}

// nodes is the show's nodes, the first studio first.
func (s *show) nodes() []*node { return s.spanAt.Load().nodes }

// holdID is the id of the show's first holding bridge, on every node.
func (s *show) holdID() string { return "callin-" + s.key + "-hold" }

// nodeMap is the App's nodes by name; never modified.
func (a *App) nodeMap() map[string]*node { return *a.nodesAt.Load() }

// showList is the shows that take the node's callers; never modified.
func (n *node) showList() []*show {
	if p := n.showsAt.Load(); p != nil {
		return *p
	}
	return nil
}

// addShow adds s to the node's shows. Callers hold App.spanMu, or are New.
func (n *node) addShow(s *show) {
	shows := append(slices.Clone(n.showList()), s)
	n.showsAt.Store(&shows)
}

// AddNode connects another Asterisk node while the App runs (or before
// it runs): it has its own event stream, reconnects, resyncs, health,
// load and room variables (Capacity) as the nodes of Config.Nodes have.
// It takes no show's callers until SpanNode names it for a show. The App
// does not keep it across a restart of callin; the service does
// (internal/cluster: ShowState.RestoreNodes).
// Errors: queue.ErrInvalid (no name or ARI), queue.ErrConflict (a node
// of that name exists).
func (a *App) AddNode(nc NodeConfig) error {
	if nc.Name == "" || nc.ARI == nil {
		return fmt.Errorf("broadcast: node %q: name and ARI are required: %w", nc.Name, queue.ErrInvalid)
	}
	a.spanMu.Lock()
	defer a.spanMu.Unlock()
	a.mu.Lock() // Run takes its nodes under mu: a node added is started by exactly one of Run and here
	defer a.mu.Unlock()
	old := a.nodeMap()
	if old[nc.Name] != nil {
		return fmt.Errorf("broadcast: node %q exists: %w", nc.Name, queue.ErrConflict)
	}
	n := newNode(a, nc)
	nodes := maps.Clone(old)
	nodes[nc.Name] = n
	a.nodesAt.Store(&nodes)
	a.log.Warn("broadcast: node added", "node", nc.Name, "capacity", nc.Capacity)
	if a.runCtx != nil && a.runCtx.Err() == nil {
		ctx := a.runCtx
		a.bg.Go(func() { n.run(ctx) })
	}
	return nil
}

// SpanNode makes a running show take the callers of another of the App's
// nodes (added by AddNode or configured), as ShowConfig.Nodes does at
// start: a caller arriving there by Stasis(callin,<show>) is held on
// that node, in its own pool of holding bridges with its own music, in
// the one line in arrival order; capacity variables are set there
// (room.go), a talkback started from now on and messages reach its
// bridges, and its callers go on air across the trunk to the studio.
// The studio does not change (SetStudio may name the new node later).
// With the node up, its holding bridge is created and its callers
// already in the app for the show are taken before SpanNode returns;
// otherwise its next connect does it. Spanning a node the show has is a
// no-op. A live talkback already on does not reach the new node until
// it is started again.
// Errors: queue.ErrNotFound (show), queue.ErrInvalid (unknown node),
// ErrTelephony (the node up but its resync failed: retried by the node).
func (a *App) SpanNode(ctx context.Context, showKey, nodeName string) error {
	s, err := a.show(showKey)
	if err != nil {
		return err
	}
	a.spanMu.Lock()
	defer a.spanMu.Unlock()
	n := a.nodeMap()[nodeName]
	if n == nil {
		return fmt.Errorf("broadcast: show %q: unknown node %q: %w", showKey, nodeName, queue.ErrInvalid)
	}
	if s.holdOn(n) != nil {
		return nil
	}
	n.syncMu.Lock() // the node's resync loop either runs after this or has run before
	old := s.spanAt.Load()
	sp := &span{nodes: append(slices.Clone(old.nodes), n), holds: maps.Clone(old.holds)}
	sp.holds[n.name] = newHolding(s, n, s.holdID())
	s.spanAt.Store(sp)
	n.addShow(s)
	n.mu.Lock()
	gen := n.gen
	n.mu.Unlock()
	up := n.healthNow().State == NodeUp
	if up {
		err = n.resyncShows(ctx, gen, []*show{s}, false)
	}
	n.syncMu.Unlock()
	a.log.Warn("broadcast: show spans another node", "show", showKey, "node", nodeName, "up", up)
	s.spanned(n)
	if !up || err != nil {
		n.kickResync() // a connect under way, or a failed resync: the loop does it (again)
	}
	if err != nil {
		return telErr("take node "+nodeName+"'s callers", err)
	}
	return nil
}

// spanned tells the show's subscribers of the node it now spans (its
// health and load) and the studio's state, and asks for the node's room
// variables and music.
func (s *show) spanned(n *node) {
	h := n.healthNow()
	s.mu.Lock()
	s.emit(Update{Kind: UpdateNode, Node: h})
	s.mu.Unlock()
	s.tellStudio()
	for _, x := range s.nodes() {
		s.holdOn(x).tell() // loads of every node: the show may have just become spread
	}
	n.roomResend()
	s.kickMusic()
}

// AddShowNode is the operator's way to grow a running show (the API's
// POST /shows/{show}/nodes): the node called name, added first when the
// App has none of that name (AddNode with Config.NodeFor(name, url)),
// then taken by the show (SpanNode). For a node the App has, url may be
// empty and is not checked. Errors: queue.ErrNotFound (show),
// queue.ErrInvalid (no url for a new node, or no Config.NodeFor, or what
// NodeFor refused), ErrTelephony (SpanNode's).
func (a *App) AddShowNode(ctx context.Context, showKey, name, url string) error {
	if _, err := a.show(showKey); err != nil {
		return err
	}
	if a.nodeMap()[name] == nil {
		if url == "" || a.cfg.NodeFor == nil {
			return fmt.Errorf("broadcast: node %q is not one of callin's: its ARI URL is needed, and a service that adds nodes: %w", name, queue.ErrInvalid)
		}
		nc, err := a.cfg.NodeFor(name, url)
		if err != nil {
			return fmt.Errorf("broadcast: node %q: %w: %w", name, queue.ErrInvalid, err)
		}
		if err := a.AddNode(nc); err != nil && !errors.Is(err, queue.ErrConflict) { // ErrConflict: added meanwhile
			return err
		}
	}
	return a.SpanNode(ctx, showKey, name)
}
