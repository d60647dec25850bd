package web

import (
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/web/auth"
)

// The real implementations satisfy web's interfaces as they are.
var (
	_ Shows    = (*broadcast.App)(nil)
	_ Callers  = (*broadcast.App)(nil)
	_ Controls = (*broadcast.App)(nil)
	_ History  = (*postgres.Store)(nil)
	_ Auth     = (*auth.Service)(nil)
	_ Blocks   = (*broadcast.App)(nil)
)
