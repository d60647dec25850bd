package main

import "github.com/callin-radio/callin/internal/sse"

// readSSE calls f for every event of a server-sent event stream until it
// ends.
var readSSE = sse.Read
