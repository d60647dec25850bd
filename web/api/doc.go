// Package api is the contract of callin's automation API (/api/v1): the
// Go types its handlers encode and decode, each named as its schema
// (types.go), the bounds and error codes they are held to (bounds.go),
// and the OpenAPI 3 document (Document), whose schemas are made from
// those types by reflection (schema.go) so that the document and what is
// sent cannot drift. It knows nothing of HTTP handlers or of the console:
// package web serves the API with these types and adds the caller
// actions' operations from its table of caller actions.
package api
