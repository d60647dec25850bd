package pbxtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
)

// TestQuietCallersMetered: quiet callers (MediaPort) send no RTP, and the
// music Asterisk plays them reaches the RTPMeter at 50 packets a second
// from one source each; an Asterisk pinned to CPU 0 has every thread
// there.
func TestQuietCallersMetered(t *testing.T) {
	t.Parallel()
	const n = 3
	p := pbxtest.New(t, pbxtest.Config{CPUs: "0", Extensions: `
[callin-inbound]
exten => 5557000,1,Answer()
 same => n,MusicOnHold(callin)
`})
	m := pbxtest.NewRTPMeter(t)
	p.Callers(t, pbxtest.CallerConfig{Number: "5557000", Count: n, MediaPort: m.Port})
	deadline := time.Now().Add(20 * time.Second)
	for len(m.Read()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("RTP from %d sources, want %d", len(m.Read()), n)
		}
		time.Sleep(100 * time.Millisecond) // polling the meter's count; the deadline bounds it
	}
	time.Sleep(500 * time.Millisecond) // the last call's music settles in
	m.Reset()
	time.Sleep(2 * time.Second) // the window: real time passing is the point
	got := m.Read()
	if len(got) != n {
		t.Fatalf("sources %+v, want %d", got, n)
	}
	for _, c := range got {
		if c.Packets < 80 || c.Packets > 110 || c.Lost != 0 {
			t.Errorf("source %+v: want about 100 packets in 2 s, none lost", c)
		}
	}
	if d := m.Drops(); d != 0 {
		t.Errorf("meter's socket dropped %d", d)
	}
	if m.CPU() < 0 {
		t.Error("meter's CPU unreadable")
	}
	// sipp sent nothing: Asterisk received no RTP on any of the calls.
	out, err := p.CLI(context.Background(), "pjsip show channelstats")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && strings.HasPrefix(f[0], "anonymous-") && f[2] == "ulaw" {
			calls++
			if f[3] != "0" {
				t.Errorf("Asterisk received RTP from a quiet caller: %s", line)
			}
		}
	}
	if calls != n {
		t.Errorf("channelstats lists %d calls, want %d:\n%s", calls, n, out)
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", p.PID()))
	if len(tasks) == 0 {
		t.Fatal("no threads of Asterisk found")
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err == nil && !strings.Contains(string(b), "Cpus_allowed_list:\t0\n") {
			t.Errorf("%s: not pinned to CPU 0", f)
		}
	}
}
