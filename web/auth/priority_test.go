package auth

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestHashRunsInBackground: a hash runs at nice hashNice, on threads that
// run nothing else: at most one per hashing slot is at that priority, and
// goroutines run after hashes never find themselves there.
func TestHashRunsInBackground(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-thread priority is Linux's")
	}
	var wg sync.WaitGroup
	prio := make([]int, 2*cap(argonSlots))
	for i := range prio {
		wg.Go(func() {
			var err error
			inBackground(func() { prio[i], err = threadPriority() })
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, p := range prio {
		if p != hashNice {
			t.Errorf("hash %d ran at nice %d, want %d", i, p, hashNice)
		}
	}
	if n := nicedThreads(t); n > cap(argonSlots) {
		t.Errorf("%d threads at nice %d, want at most the %d hashing threads", n, hashNice, cap(argonSlots))
	}
	probes := make([]int, 200)
	for i := range probes {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			probes[i], _ = threadPriority()
		})
	}
	wg.Wait()
	for i, p := range probes {
		if p == hashNice {
			t.Fatalf("goroutine %d ran at nice %d: a hashing thread ran other work", i, hashNice)
		}
	}
}

// nicedThreads counts this process's threads at nice hashNice (/proc's stat,
// field 19).
func nicedThreads(t *testing.T) int {
	t.Helper()
	stats, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // field 3 on
		if nice, _ := strconv.Atoi(fields[16]); nice == hashNice {
			n++
		}
	}
	return n
}
