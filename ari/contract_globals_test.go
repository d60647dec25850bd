package ari_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/callin-radio/callin/ari"
)

// TestContractGlobalVar: the dialplan global variables callin sets to mark
// a full node (CALLIN_FULL_<show>, read by dialplan/extensions.conf's
// [callin-ivr] before it answers). Never set, a variable reads "" (200,
// not 404); set, it reads back; set empty, it reads ""; an empty name is
// 400; a restart of Asterisk loses what ARI set, so callin sets it again
// when it reconnects.
func TestContractGlobalVar(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		n := b.newNode(t)
		c := n.client
		ctx := context.Background()
		name := fmt.Sprintf("CALLIN_FULL_contract%d", appSeq.Add(1))
		read := func(want string) {
			t.Helper()
			got, err := c.GlobalVar(ctx, name)
			if err != nil {
				t.Fatalf("GlobalVar(%s): %v", name, err)
			}
			if got != want {
				t.Fatalf("GlobalVar(%s) = %q, want %q", name, got, want)
			}
		}
		read("")
		if err := c.SetGlobalVar(ctx, name, "1"); err != nil {
			t.Fatal(err)
		}
		read("1")
		if err := c.SetGlobalVar(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
		read("")
		var ae *ari.Error
		if err := c.SetGlobalVar(ctx, "", "1"); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Errorf("SetGlobalVar with no name: %v, want a 400", err)
		}
		if _, err := c.GlobalVar(ctx, ""); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Errorf("GlobalVar with no name: %v, want a 400", err)
		}
		if err := c.SetGlobalVar(ctx, name, "1"); err != nil {
			t.Fatal(err)
		}
		waitRestart(t, n.restart(t))
		read("")
	})
}
