package broadcast_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
)

// BenchmarkPBXHoldCPU measures what holding callers costs Asterisk with
// callin against a plain ARI app holding as many the same way (bridges of
// 50 with the bridge's music): two real Asterisks side by side, one per
// application, each with PBX_HOLD SIP callers (default 100; sipp, RTP both
// ways) through the same IVR, at the same time; once everyone waits,
// each Asterisk's CPU (its process's user + system time) over the same
// PBX_WINDOW seconds (default 20). The metric asterisk-cpu-ratio is
// callin's Asterisk over the plain app's (goal ≤ 1.05).
//
//	PBX_HOLD=300 go test -run '^$' -bench PBXHoldCPU -benchtime 1x ./broadcast/
func BenchmarkPBXHoldCPU(b *testing.B) {
	n := envInt("PBX_HOLD", 100)
	window := time.Duration(envInt("PBX_WINDOW", 20)) * time.Second
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		pc := pbxtest.New(b, pbxtest.Config{})
		pp := pbxtest.New(b, pbxtest.Config{Extensions: plainDialplan})
		plain := startPlain(ctx, b, pp)

		clog := newChanLog("callin-morning-hold")
		client, err := ari.NewClient(ari.Config{URL: pc.HTTP, Username: pc.User, Password: pc.Password, App: "callin", Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		sc := showCfg("morning", "n1")
		sc.MOHClass, sc.HoldBridgeSize = "callin", plainHoldSize
		app, err := broadcast.New(broadcast.Config{
			Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: &tapped{Client: client, log: clog}}},
			Shows: []broadcast.ShowConfig{sc}, Sink: &sink{}, Logger: quiet(),
		})
		if err != nil {
			b.Fatal(err)
		}
		w := watch(b, app, "morning")
		done := make(chan struct{})
		go func() { defer close(done); _ = app.Run(ctx) }()
		w.nodeUp()
		w.sub.Close()

		rate := min(float64(n), 30)
		pc.Callers(b, pbxtest.CallerConfig{Number: "5550100", Count: n, Rate: rate, PressOne: true, Prefix: "1555"})
		pp.Callers(b, pbxtest.CallerConfig{Number: plainNumber, Count: n, Rate: rate, PressOne: true, Prefix: "1666"})
		deadline := time.Now().Add(time.Duration(float64(n)/rate*float64(time.Second)) + 60*time.Second)
		for clog.admitted() < n || plain.log.admitted() < n {
			if time.Now().After(deadline) {
				b.Fatalf("admitted: callin %d of %d, plain %d of %d", clog.admitted(), n, plain.log.admitted(), n)
			}
			time.Sleep(100 * time.Millisecond) // polling a count the events fill; the deadline bounds it
		}
		time.Sleep(2 * time.Second) // the last callers' music settles in
		c0, p0 := cpuTime(b, pc.PID()), cpuTime(b, pp.PID())
		time.Sleep(window) // the measuring window: real time passing is the point
		c1, p1 := cpuTime(b, pc.PID()), cpuTime(b, pp.PID())
		callin, plainCPU := c1-c0, p1-p0
		perCaller := func(d time.Duration) float64 { return float64(d) / float64(window) / float64(n) * 1000 } // ms of CPU a second per caller
		fmt.Printf("holding %d callers each for %v: callin's Asterisk %v CPU (%.3f ms/s a caller), the plain app's %v (%.3f ms/s a caller)\n",
			n, window, callin, perCaller(callin), plainCPU, perCaller(plainCPU))
		b.ReportMetric(float64(callin)/float64(plainCPU), "asterisk-cpu-ratio")
		b.ReportMetric(perCaller(callin), "callin-cpu-ms/s/caller")
		b.ReportMetric(perCaller(plainCPU), "plain-cpu-ms/s/caller")
		cancel()
		<-done
	}
}

// cpuTime is a process's user and system CPU time so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func cpuTime(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count from after it.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
