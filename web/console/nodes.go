package console

import (
	"strings"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/shared"
)

// A show across nodes (issue 24) on the console: each caller's row says
// the node it is held on, the header each node's load, and a lost studio
// node puts a banner on every console, with, for those who may, a button
// per node that can take over as the studio (control "set-studio"). A
// show on one node looks as it always did: none of this is shown.

// spread reports whether the show spans more than one node.
func (v showView) spread() bool { return len(v.Snap.Nodes) > 1 }

// callNode is the words for the node c is held on ("node B"), or "" on a
// show of one node. Node names are configuration, still made printable
// (and escaped by templ).
func callNode(v showView, c queue.Call) string {
	if !v.spread() || c.Node == "" {
		return ""
	}
	return "node " + shared.Printable(c.Node)
}

// nodeLoads says each node's load in words: "A 212/600 · B 198/600 full"
// (held/capacity; held alone without a capacity; "down" for a node that
// is not up; "studio" marks the studio).
func nodeLoads(v showView) string {
	parts := make([]string, 0, len(v.Snap.Nodes))
	for _, l := range v.Snap.Nodes {
		s := shared.Printable(l.Node) + " " + itoa(l.Held)
		if l.Capacity > 0 {
			s += "/" + itoa(l.Capacity)
		}
		if l.Studio {
			s += " studio"
		}
		if l.Full {
			s += " full"
		}
		if l.State != broadcast.NodeUp {
			s += " " + strings.ReplaceAll(string(l.State), "_", " ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

// studioLost reports whether the show's studio node is lost: nobody can
// go on air until another studio is named.
func (v showView) studioLost() bool { return v.spread() && v.Snap.Studio.Lost }

// studioLostText is the banner's sentence.
func studioLostText(v showView) string {
	return "Studio node " + shared.Printable(v.Snap.Studio.Node) + " lost — nobody can go on air; name another studio"
}

// studioCandidates are the show's nodes that could take over as studio:
// up, and not the lost studio.
func studioCandidates(v showView) []string {
	var out []string
	for _, l := range v.Snap.Nodes {
		if l.Node != v.Snap.Studio.Node && l.State == broadcast.NodeUp {
			out = append(out, l.Node)
		}
	}
	return out
}

// outcomeText says a call's outcome in words, for the history.
func outcomeText(o queue.Outcome) string {
	switch o {
	case queue.OutcomeNodeLost:
		return "node lost (its Asterisk node went down)"
	case "":
		return ""
	}
	return strings.ReplaceAll(string(o), "_", " ")
}
