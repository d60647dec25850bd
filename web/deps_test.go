package web

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
)

// The real implementations satisfy web's interfaces as they are; the
// store's are checked in cmd/callin, which wires it.
var (
	_ core.Shows    = (*broadcast.App)(nil)
	_ core.Callers  = (*broadcast.App)(nil)
	_ core.Controls = (*broadcast.App)(nil)
	_ core.Auth     = (*auth.Service)(nil)
	_ core.Blocks   = (*broadcast.App)(nil)
)

// TestNoStorageDeps: web knows the domain's read models, not the store
// that fills them, so it links neither the postgres package nor pgx.
func TestNoStorageDeps(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "jackc/pgx") || strings.HasSuffix(dep, "callin/postgres") {
			t.Errorf("web links %s", dep)
		}
	}
}
