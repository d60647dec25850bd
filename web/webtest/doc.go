// Package webtest holds the fakes web's tests drive both audiences with,
// so the console's tests and the API's can share them: App stands in for
// *broadcast.App (one show on a real queue.Show, every action committed
// at once as if its telephony had worked, each transition sent to the
// subscribers), History, Chat, Notes and Recordings for the store, Auth
// for web/auth (tokens "Bearer <role>", a "session" cookie "<name>:<role>"),
// and a reader of server-sent events (OpenSSE, Stream.Next, Named). It
// imports no package of web's but auth and feed, so any of web's packages
// may use it in its tests.
package webtest
