// Package ari is a small, typed client for the Asterisk REST Interface of one
// Asterisk node: REST calls on Client, and the node's event WebSocket on Conn.
//
// # REST
//
// NewClient takes the node's base URL (the client appends /ari/...), the ARI
// user and password, the Stasis application name, an *http.Client and a
// logger. Every method takes a context.Context first and names its REST call
// in its doc comment. Ids of channels, bridges and playbacks are chosen by
// the caller, so they can be stored before the request is sent.
//
// An HTTP error status comes back as *Error with the method, path, status
// and Asterisk's message (from {"message": ...}, {"error": ...}, an HTML page
// or an empty body). errors.Is matches it against ErrNotFound (404),
// ErrConflict (409), ErrInvalid (400, 422), ErrUnauthorized (401) and
// ErrForbidden (403). The same mistake gets different statuses from
// different operations (addChannel answers 400 for an unknown channel and
// 422 for one not in Stasis; answer and play answer 409 for a channel not
// in Stasis), so look at Status when the difference matters.
//
// ARI is asynchronous: a 2xx means Asterisk accepted the command, not that it
// happened. Anything that waits for an event (PlaybackFinished before a
// hang-up) must be listening before it sends the request: some events
// arrive before the HTTP response.
//
// # Events
//
// Client.Connect opens GET /ari/events?app=<app> and returns a Conn whose
// Events channel is the one ordered stream of the node: typed events decoded
// on their "type" field (types not modelled arrive as *RawEvent), with a
// synthetic *Connected before the first event of each WebSocket connection
// and a *Disconnected (with its cause) after the last one, and after every
// failed dial. The consumer therefore never sees an event of a new
// connection before it learns of the reconnect. Asterisk does not replay
// events missed while disconnected: on *Connected, reconcile by listing
// bridges and channels. ChannelID, BridgeID and PlaybackID tell which
// resources an event touches, for routing.
//
// The Conn reconnects by itself with capped exponential backoff and jitter.
// Each dial uses a fresh TCP connection. A WebSocket ping every few seconds
// notices a node that stopped answering without closing the socket.
//
// Events are never dropped silently. Between the reader and the consumer
// sits a bounded buffer (EventOptions.Buffer). When it stays full for
// EventOptions.SlowConsumerTimeout, the Conn closes the WebSocket, delivers
// the events already buffered, then a *Disconnected whose Err is
// ErrConsumerTooSlow, and reconnects; the consumer reconciles as after any
// reconnect. Memory stays bounded however slow the consumer is.
//
// When Asterisk sends ApplicationReplaced (another WebSocket took the
// application name on this node), the Conn delivers it, then a final
// *Disconnected with ErrApplicationReplaced, stops (State is ConnReplaced,
// Err is ErrApplicationReplaced) and closes Events. It does not fight for the
// name: two services taking it in turn would each lose events. Whoever
// decides that this service should own the node again calls Connect anew.
package ari
