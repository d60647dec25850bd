package ari

import "strings"

// A trunk leg is a call callin places from one of its Asterisk nodes to
// another over the SIP trunk between them (issue 24: a caller held on one
// node put on air on another). Each node names every other node as the
// PJSIP endpoint node<NAME> whose context is [callin-trunk]
// (dialplan/extensions.conf; pbxtest.NewCluster writes these endpoints on
// loopback), which runs
// Stasis(callin,trunk,<token>): the far node's app recognises the leg by
// its first Stasis argument and pairs it with the near leg by the token.

// TrunkArg is the first Stasis argument of a trunk leg on the far node.
const TrunkArg = "trunk"

// TrunkDial is the endpoint to originate (POST /channels?endpoint=…) to
// reach node's callin app over the trunk, carrying token: the dialled
// number of [callin-trunk] (_X.: the token starts with a digit and has at
// least two characters, e.g. a counter or a channel's unique id).
func TrunkDial(node, token string) string {
	return "PJSIP/" + token + "@node" + node
}

// TrunkToken returns the token of a trunk leg from its StasisStart
// arguments, and whether the channel is a trunk leg at all.
func TrunkToken(args []string) (string, bool) {
	if len(args) != 2 || args[0] != TrunkArg || args[1] == "" {
		return "", false
	}
	return args[1], true
}

// TrunkNode returns the node name an endpoint of the trunk names
// ("PJSIP/nodeB" or a channel name "PJSIP/nodeB-0000002a" → "B").
func TrunkNode(endpoint string) (string, bool) {
	rest, ok := strings.CutPrefix(endpoint, "PJSIP/node")
	if !ok {
		return "", false
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		rest = rest[:i]
	}
	return rest, rest != ""
}
