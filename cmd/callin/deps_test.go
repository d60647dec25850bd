package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps: the product binary links no test or load tooling. The demo's
// fake Asterisk (ari/aritest) is linked, but not testing.
func TestDeps(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{
		"testing",
		"github.com/callin-radio/callin/postgres/pgtest",
		"github.com/Masterminds/sprig/v3",
	} {
		if slices.Contains(deps, banned) {
			t.Errorf("callin links %s", banned)
		}
	}
}
