package pbxtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
)

// NodeName is the name of the i-th node of a cluster: "A", "B", "C", …
func NodeName(i int) string { return string(rune('A' + i)) }

// TrunkEndpoint is the settings of the PJSIP endpoint by which every node
// of a cluster reaches the node named name at sipPort, and knows the calls
// coming from it (context callin-trunk, ulaw, media through Asterisk, as
// shared/asterisk/examples/two-nodes; the peer is identified by its SIP
// address and port).
func TrunkEndpoint(name string, sipPort int) string {
	ep := "node" + name
	return fmt.Sprintf(`[%[1]s]
type = endpoint
context = callin-trunk
disallow = all
allow = ulaw
direct_media = no
aors = %[1]s
%[3]s
[%[1]s]
type = aor
contact = sip:127.0.0.1:%[2]d

[%[1]s]
type = identify
endpoint = %[1]s
match = 127.0.0.1:%[2]d
`, ep, sipPort, TrunkEndpointOptions)
}

// TrunkEndpointOptions are the trunk endpoints' further settings.
var TrunkEndpointOptions = ""

// NewCluster starts n real Asterisks (n >= 2) joined by SIP trunks, every
// node to every other: node X (NodeName) reaches node Y by originating to
// ari.TrunkDial(Y, token) = PJSIP/<token>@node<Y>, and the call enters Y's
// [callin-trunk] (Stasis(callin,trunk,<token>)). cfg is every node's
// configuration; its ports must be zero (each node gets free ones). The
// nodes are stopped at t's cleanup. Without a real Asterisk t is skipped
// (failed under CI), as New does.
func NewCluster(t testing.TB, n int, cfg Config) []*PBX {
	t.Helper()
	Require(t)
	if n < 2 || n > 26 || cfg.HTTPPort != 0 || cfg.SIPPort != 0 || cfg.RTPStart != 0 || cfg.Dir != "" {
		t.Fatalf("pbxtest: NewCluster(%d): 2 to 26 nodes, and no fixed ports or folder in cfg", n)
	}
	takeTurn(t) // before the ports are picked: nobody takes them while it waits
	cfgs, err := clusterPorts(n, cfg)
	if err != nil {
		t.Fatalf("pbxtest: %v", err)
	}
	nodes := make([]*PBX, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			nodes[i], errs[i] = Start(ctx, cfgs[i])
			if nodes[i] != nil {
				nodes[i].Node = NodeName(i)
			}
		})
	}
	wg.Wait()
	for _, p := range nodes {
		if p == nil {
			continue
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("pbxtest: node %s (%s) failed the test; last lines of its log:\n%s", p.Node, p.HTTP, p.LogTail(40))
			}
			if err := p.Stop(); err != nil {
				t.Errorf("pbxtest: node %s: %v", p.Node, err)
			}
			if !t.Failed() {
				os.RemoveAll(p.Dir)
			}
		})
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pbxtest: node %s: %v", NodeName(i), err)
		}
	}
	return nodes
}

// clusterPorts picks every node's ports, no two blocks overlapping, and
// writes each node's trunks to the others.
func clusterPorts(n int, cfg Config) ([]Config, error) {
	cfgs := make([]Config, n)
	overlaps := func(i int) bool {
		for j := range i {
			a, b := cfgs[i], cfgs[j]
			if a.HTTPPort == b.HTTPPort || abs(a.SIPPort-b.SIPPort) < 15 || abs(a.RTPStart-b.RTPStart) < 2000 {
				return true
			}
		}
		return false
	}
	for i := range n {
		for try := 0; ; try++ {
			c := cfg
			p := &PBX{cfg: c}
			if err := p.pickPorts(); err != nil {
				return nil, err
			}
			cfgs[i] = p.cfg
			if !overlaps(i) {
				break
			}
			if try == 20 {
				return nil, fmt.Errorf("no %d separate blocks of ports", n)
			}
		}
	}
	for i := range cfgs {
		var trunk []string
		for j := range cfgs {
			if j != i {
				trunk = append(trunk, TrunkEndpoint(NodeName(j), cfgs[j].SIPPort))
			}
		}
		cfgs[i].Trunk = strings.Join(trunk, "\n")
	}
	return cfgs, nil
}

func abs(x int) int { return max(x, -x) }

// TrunkDial is the endpoint that reaches node to over the trunk from p,
// carrying token (ari.TrunkDial).
func (p *PBX) TrunkDial(to *PBX, token string) string { return ari.TrunkDial(to.Node, token) }
