package broadcast

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"
)

// Room: a node with a capacity (NodeConfig.Capacity) tells its own
// dialplan when it is full, so that the SIP front (deploy/kamailio) gives
// the next callers to another node. callin sets the Asterisk global
// CALLIN_FULL_<show>=1 there for every show the node takes once the
// callers held on the node (every show's, in its holding bridges: the
// Held of App.NodeLoads) reach its capacity, and clears them ("") once
// they are fewer than capacity minus a margin (a tenth of the capacity,
// at least 1, at most capacity-1: full at 100 until 89, at 3 until 1, at
// 1 until 0), so that a caller
// coming and going at the brim does not flip them each time. The capacity is the node's, not a share per show:
// what fills a node is its callers, whichever show they called.
//
// Callers still in the IVR are not held yet, and a burst of them passes
// a room check that only counts the held. So callin also sets the global
// CALLIN_CAPACITY (CapacityVar) to the node's capacity, and the dialplan
// counts, itself, every caller it let in and who has not hung up (IVR,
// on the way into Stasis, held, on air: GROUP(callin)=caller, counted by
// GROUP_COUNT(caller@callin)), refusing the next with 503 once they are
// as many as the capacity: a node never takes more than its capacity,
// however fast they come (TestRoomIVRPBX on a real Asterisk; two callers
// checked in the same microseconds could still both pass). That count is
// Asterisk's and has no hysteresis; the CALLIN_FULL_<show> variables keep
// theirs, which tell the front that a node is full before its callers
// are refused.
//
// CALLIN_FULL=1 (drain the node) is the operator's; callin never sets
// it. Asterisk loses globals when it restarts, so after every resync the
// node's variables are all sent again, set or cleared. A node standing
// by or down is left alone. Backed by TestRoomFake and TestRoomFront
// (real nodes behind Kamailio).

// roomKeeper is a node's room state. kick wakes its loop; stale asks it
// to send every variable again; full is what was last set, for loads.
type roomKeeper struct {
	kick  chan struct{}
	stale atomic.Bool
	full  atomic.Bool
}

// roomMargin is how far below its capacity a full node must get (and one
// more) before it takes callers again.
func roomMargin(capacity int) int {
	return min(max(1, capacity/10), capacity-1)
}

// nextFull says whether a node holding held callers is full, given
// whether it was.
func nextFull(full bool, held, capacity int) bool {
	if held >= capacity {
		return true
	}
	return full && held >= capacity-roomMargin(capacity)
}

// roomChanged tells the room loop the node's load may have changed. It
// never blocks; callers may hold any lock.
func (n *node) roomChanged() {
	select {
	case n.room.kick <- struct{}{}:
	default:
	}
}

// roomResend makes the room loop send every variable again (after a
// resync: the node may have restarted and lost them).
func (n *node) roomResend() {
	n.room.stale.Store(true)
	n.roomChanged()
}

// held counts the callers held on the node, over its shows.
func (n *node) held() int {
	held := 0
	for _, s := range n.showList() {
		hm := s.holdOn(n)
		hm.mu.Lock()
		held += hm.holdMembers()
		hm.mu.Unlock()
	}
	return held
}

// roomLoop keeps the node's CALLIN_FULL_<show> variables following its
// load while the connection lasts, retrying a failed set each second.
func (n *node) roomLoop(ctx context.Context) {
	capacity := n.cfg.Capacity
	if capacity <= 0 {
		return
	}
	var retry <-chan time.Time
	sent := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.room.kick:
		case <-retry:
		}
		retry = nil
		if n.healthNow().State != NodeUp {
			continue // the resync that brings it up asks again
		}
		if n.room.stale.Swap(false) {
			sent = false
		}
		was := n.room.full.Load()
		want := nextFull(was, n.held(), capacity)
		if sent && want == was {
			continue
		}
		if err := n.setFull(ctx, want); err != nil {
			if ctx.Err() != nil {
				return
			}
			n.log.Warn("broadcast: setting the node's room variables failed; retrying", "full", want, "err", err)
			sent, retry = false, time.After(time.Second)
			continue
		}
		sent = true
		if n.room.full.Swap(want) != want {
			n.log.Info("broadcast: node room changed", "full", want, "capacity", capacity)
			for _, s := range n.showList() {
				s.holdOn(n).tell()
			}
		}
	}
}

// setFull sets (or clears) CALLIN_FULL_<show> for every show of the node,
// and sets CALLIN_CAPACITY.
func (n *node) setFull(ctx context.Context, full bool) error {
	v := ""
	if full {
		v = "1"
	}
	vars := [][2]string{{CapacityVar, strconv.Itoa(n.cfg.Capacity)}}
	for _, s := range n.showList() {
		vars = append(vars, [2]string{FullVar(s.key), v})
	}
	for _, kv := range vars {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := n.ari.SetGlobalVar(rctx, kv[0], kv[1])
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// CapacityVar is the Asterisk global variable holding the node's capacity
// (NodeConfig.Capacity), against which dialplan/extensions.conf's
// [callin-ivr] counts the callers it let in and who are still there.
const CapacityVar = "CALLIN_CAPACITY"

// FullVar is the Asterisk global variable that marks a node full for a
// show: CALLIN_FULL_<show>, read by dialplan/extensions.conf's
// [callin-ivr] before it answers (it refuses with 503 when it is "1").
func FullVar(show string) string { return "CALLIN_FULL_" + show }
