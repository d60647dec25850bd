// Package shared is what web's two audiences, the console and the API,
// both use to read requests and answer them: the one table that turns
// domain errors into HTTP statuses and codes (Classify, with the input
// errors BadRequest, Invalid and TooLarge naming the field at fault),
// strict JSON bodies (DecodeJSON: application/json only, no unknown,
// repeated or wrong-case key, UTF-8 only), text fit to show (Printable)
// and the request's principal and its permissions (Principal, Allow).
package shared
