package control

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// nodeControl adds a node to a running show (an admin's: it connects
// callin to another Asterisk): the API's POST /shows/{show}/nodes, not
// on the console, whose header lists the show's nodes with their load.
var nodeControl = Control{Method: "POST", Path: "/nodes", Perm: auth.ActionAdmin,
	JSON: func(r *http.Request) (Input, error) {
		var in api.NodeAdd
		if err := shared.DecodeJSON(r, &in); err != nil {
			return Input{}, err
		}
		return nodeAddInput(in)
	},
	Answer: showAnswer,
	Do: func(r *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
		return Result{}, ctl.AddShowNode(r.Context(), sh.Key, in.Node, in.URL)
	}}

var (
	nodeName = regexp.MustCompile(api.NodeNamePattern)
	nodeURL  = regexp.MustCompile(api.NodeURLPattern)
)

// nodeAddInput is the node to add: a name as the document's pattern
// says, and a URL (optional for a node callin has) likewise.
func nodeAddInput(in api.NodeAdd) (Input, error) {
	if !nodeName.MatchString(in.Name) {
		return Input{}, shared.Invalid("name", "must be a node's name: letters, digits, - and _, at most 32")
	}
	u := strings.TrimSuffix(in.URL, "/")
	if in.URL != "" && (len(in.URL) > api.MaxText || !nodeURL.MatchString(in.URL)) {
		return Input{}, shared.Invalid("url", "must be an http(s) URL like http://10.0.0.7:8088, without credentials")
	}
	return Input{Node: in.Name, URL: u}, nil
}
