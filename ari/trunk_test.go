package ari_test

import (
	"testing"

	"github.com/callin-radio/callin/ari"
)

func TestTrunkNames(t *testing.T) {
	if got := ari.TrunkDial("B", "501"); got != "PJSIP/501@nodeB" {
		t.Errorf("TrunkDial = %q", got)
	}
	for _, c := range []struct {
		args  []string
		token string
		ok    bool
	}{
		{[]string{"trunk", "501"}, "501", true},
		{[]string{"trunk"}, "", false},
		{[]string{"trunk", ""}, "", false},
		{[]string{"morning"}, "", false},
		{[]string{"morning", "trunk"}, "", false},
		{[]string{"trunk", "501", "x"}, "", false},
	} {
		if tok, ok := ari.TrunkToken(c.args); tok != c.token || ok != c.ok {
			t.Errorf("TrunkToken(%q) = %q, %v; want %q, %v", c.args, tok, ok, c.token, c.ok)
		}
	}
	for _, c := range []struct{ in, node string }{
		{"PJSIP/nodeB", "B"}, {"PJSIP/nodeA-0000002a", "A"}, {"PJSIP/phone1-00000001", ""}, {"PJSIP/node", ""}, {"Local/s@x", ""},
	} {
		if n, ok := ari.TrunkNode(c.in); n != c.node || ok != (c.node != "") {
			t.Errorf("TrunkNode(%q) = %q, %v; want %q", c.in, n, ok, c.node)
		}
	}
}
