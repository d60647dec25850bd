package pbxtest

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// lockedElsewhere says whether another descriptor (as another process
// would open it) cannot take TurnFile now.
func lockedElsewhere(t *testing.T) bool {
	t.Helper()
	f, err := os.OpenFile(TurnFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatal(err)
	}
	return true
}

// TestTurn: the turn is held while any of this process's takers lives,
// shared between them, and given back when the last one ends.
func TestTurn(t *testing.T) {
	t.Setenv("PBXTEST_SHARE", "")
	if turn.held != 0 {
		t.Skip("an Asterisk of this process is alive")
	}
	t.Run("outer", func(t *testing.T) {
		takeTurn(t)
		if !lockedElsewhere(t) {
			t.Fatal("the turn is not held after takeTurn")
		}
		t.Run("inner", func(t *testing.T) {
			takeTurn(t) // the same process: no wait
			if turn.held != 2 {
				t.Fatalf("held %d, want 2", turn.held)
			}
		})
		if !lockedElsewhere(t) {
			t.Fatal("the turn was given back while the outer taker lives")
		}
	})
	if lockedElsewhere(t) {
		t.Fatal("the turn is still held after every taker ended")
	}
}
