// Package cluster lets several callin instances share one database and the
// same Asterisk nodes, each node driven by one instance at a time:
//
//   - Claims: each node is claimed (postgres.NodeClaim, an advisory lock);
//     the instance holding the claim drives it, the others stand by
//     (broadcast.NodeStandby) and claim it when it goes.
//   - Proxy: a standing-by instance passes the console's and the API's
//     requests for a show on such a node to the instance driving it, so
//     producers may use any instance.
//   - ShowState: producers' changes to a show's settings are saved, and an
//     instance taking a node over carries on with them.
//   - Follower: changes made through other instances (blocks, caller
//     notes) reach this one's consoles and call path.
//
// Everything else the instances share lives in the database and is read
// from it as it is needed.
package cluster
