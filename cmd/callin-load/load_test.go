package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestLoad runs a small load end to end and checks its report: every
// caller admitted, promotes measured, every transition in PostgreSQL.
func TestLoad(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr strings.Builder
	err := run(ctx, []string{"--database-url", pgtest.URL(t),
		"--callers", "50", "--rate", "500", "--consoles", "2", "--browsers", "1",
		"--promote-every", "20ms", "--hangup-every", "40ms", "--cycles", "10"},
		&stdout, &stderr)
	if err != nil {
		t.Fatalf("callin-load: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	t.Log("\n" + out)
	if got := field(out, "admitted"); got != "50/50" {
		t.Errorf("admitted %q, want 50/50", got)
	}
	var n, p50, p99 float64
	if _, err := fmt.Sscanf(field(out, "promote latency"), "p50 %fms p99 %fms", &p50, &p99); err != nil || p50 <= 0 || p99 < p50 {
		t.Errorf("promote latency %q: want p50 > 0 and p99 >= p50", field(out, "promote latency"))
	}
	if _, err := fmt.Sscanf(field(out, "promotes"), "%f ok", &n); err != nil || n < 1 {
		t.Errorf("promotes %q: want at least one", field(out, "promotes"))
	}
	if _, err := fmt.Sscanf(field(out, "fan-out latency"), "p50 %fms", &p50); err != nil || p50 <= 0 {
		t.Errorf("fan-out latency %q: want measured", field(out, "fan-out latency"))
	}
	var recorded, seen, stored int
	if _, err := fmt.Sscanf(field(out, "transitions"), "%d recorded, %d seen, %d in call_events", &recorded, &seen, &stored); err != nil {
		t.Fatalf("transitions %q: %v", field(out, "transitions"), err)
	}
	// 50 arrivals and admissions at least, plus promotes, drops, hang-ups.
	if recorded < 100+int(n) || stored != seen || seen < recorded {
		t.Errorf("transitions: %d recorded, %d seen, %d stored; want >= %d, all seen and stored", recorded, seen, stored, 100+int(n))
	}
	if got := field(out, "all written"); got != "yes" {
		t.Errorf("all written %q, want yes", got)
	}
	if got := field(out, "streams disconnected"); got != "0 API, 0 console" {
		t.Errorf("streams disconnected %q, want none", got)
	}
	// Each admitted caller's StasisStart and ChannelEnteredBridge at least.
	if _, err := fmt.Sscanf(field(out, "ari events per admitted caller"), "%f", &n); err != nil || n < 2 {
		t.Errorf("ari events per admitted caller %q: want at least 2", field(out, "ari events per admitted caller"))
	}
}

// TestLoadHoldSize: --hold-size reaches the show, and a line in one
// holding bridge costs more event bytes per admitted caller than the same
// line in bridges of 5, whose events carry short member lists.
func TestLoadHoldSize(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	perCaller := map[string]float64{}
	for _, tc := range []struct {
		size    string
		bridges func(int) bool
	}{
		{"-1", func(n int) bool { return n == 1 }},
		{"5", func(n int) bool { return n >= 10 }}, // 100 callers, a few on air or gone
	} {
		var stdout, stderr strings.Builder
		err := run(ctx, []string{"--database-url", pgtest.URL(t), "--fake-alone=false",
			"--callers", "100", "--rate", "1000", "--consoles", "1", "--browsers", "0",
			"--promote-every", "50ms", "--hangup-every", "0", "--cycles", "1", "--hold-size", tc.size},
			&stdout, &stderr)
		if err != nil {
			t.Fatalf("--hold-size %s: %v\n%s", tc.size, err, stderr.String())
		}
		out := stdout.String()
		var bridges int
		if _, err := fmt.Sscanf(field(out, "holding bridges"), "%d", &bridges); err != nil || !tc.bridges(bridges) {
			t.Errorf("--hold-size %s: holding bridges %q", tc.size, field(out, "holding bridges"))
		}
		var b float64
		if _, err := fmt.Sscanf(field(out, "ari bytes per admitted caller"), "%f B", &b); err != nil || b <= 0 {
			t.Errorf("--hold-size %s: ari bytes per admitted caller %q: want measured", tc.size, field(out, "ari bytes per admitted caller"))
		}
		perCaller[tc.size] = b
	}
	t.Logf("ari bytes per admitted caller: %.0f in one bridge, %.0f in bridges of 5", perCaller["-1"], perCaller["5"])
	// One bridge: about 50 members on average in each Entered event, 14
	// bytes each; bridges of 5: about 3.
	if one, pool := perCaller["-1"], perCaller["5"]; one < pool+300 {
		t.Errorf("ari bytes per admitted caller: %.0f in one bridge, %.0f in bridges of 5; want one bridge to cost 300 B more at least", one, pool)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--callers", "0"},
		{"--rate", "0"},
		{"--consoles", "0"},
		{"--promote-every", "0s"},
		{"--log-level", "loud"},
		{"--no-such-flag"},
		{"600"},
	} {
		var stderr strings.Builder
		err := run(context.Background(), args, &strings.Builder{}, &stderr)
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help"} {
		var stdout, stderr strings.Builder
		if err := run(context.Background(), []string{arg}, &stdout, &stderr); err != nil {
			t.Errorf("%s: got %v, want no error (exit 0)", arg, err)
		}
		if !strings.Contains(stdout.String(), "Usage: callin-load") || !strings.Contains(stdout.String(), "-callers") {
			t.Errorf("%s: stdout %q, want the usage and the flags", arg, stdout.String())
		}
	}
}

func TestHist(t *testing.T) {
	t.Parallel()
	var h hist
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*1.021 {
			t.Errorf("quantile(%g) = %v, want %v within 2%%", tc.q, got, tc.want)
		}
	}
}

// field returns the value after "key:" on its line.
func field(out, key string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), key+":"); ok && k == "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
