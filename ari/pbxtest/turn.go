package pbxtest

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Real Asterisks take turns between test processes. `go test ./...` runs
// several packages' test binaries at once, and on a 2-core machine two
// packages' Asterisks and sipp callers side by side starve each other's
// RTP: a phone's tone stopped reaching the on-air bridge after a quarter
// of a second, a caller's BYE came too late (cmd/callin's TestRealPBXShow
// in a .ci/run of 2026-12-07, while broadcast's two-node tests ran). So a
// process holds a machine-wide lock (flock on TurnFile) while any
// Asterisk it started through New or NewCluster is alive; the Asterisks of
// one process (a cluster, a benchmark's pair) share the turn, and the
// next process's test waits for it. Set PBXTEST_SHARE=1 to run side by
// side anyway.

// TurnFile is the lock file the test processes take turns on.
var TurnFile = filepath.Join(os.TempDir(), "callin-pbxtest.turn")

var turn struct {
	mu   sync.Mutex
	held int      // this process's live Asterisks
	f    *os.File // the locked file while held > 0
}

// takeTurn waits for this process's turn (unless it has it already) and
// gives it back at t's cleanup, after the Asterisks started after this
// call have stopped (cleanups run last in, first out).
func takeTurn(t testing.TB) {
	t.Helper()
	if os.Getenv("PBXTEST_SHARE") != "" {
		return
	}
	turn.mu.Lock()
	defer turn.mu.Unlock()
	if turn.held == 0 {
		f, err := os.OpenFile(TurnFile, os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatalf("pbxtest: turn: %v", err)
		}
		start := time.Now()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("pbxtest: turn: %v", err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Logf("pbxtest: waited %v for another test process's Asterisk to stop", waited.Round(time.Millisecond))
		}
		turn.f = f
	}
	turn.held++
	t.Cleanup(giveTurn)
}

func giveTurn() {
	turn.mu.Lock()
	defer turn.mu.Unlock()
	if turn.held--; turn.held == 0 {
		turn.f.Close() // closing the only descriptor releases the flock
		turn.f = nil
	}
}
