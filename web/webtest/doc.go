// Package webtest holds the fakes web's tests drive both audiences with,
// so the console's tests and the API's can share them: App stands in for
// *broadcast.App (one show on a real queue.Show, every action committed
// at once as if its telephony had worked, each transition sent to the
// subscribers), History, Chat, Notes and Recordings for the store, Auth
// for web/auth (tokens "Bearer <role>", a "session" cookie "<name>:<role>"),
// a reader of server-sent events (OpenSSE, Stream.Next, Named), and small
// helpers both audiences' tests use (MemPhones, SyncBuffer, IDs). It
// imports no package of web's but auth and feed, so any of web's packages
// may use it in its tests, inside the package too. A whole Server on these
// fakes is package webenv's (web/webtest/webenv), for the tests outside
// web, web/console and web/rest.
package webtest
