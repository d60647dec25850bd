package api

import "net/http"

// Problem is the body of every error of the API: RFC 9457 problem
// details, sent as application/problem+json (issue 22, point 4). type is
// a URN naming the kind of problem (ProblemType of its code), title its
// fixed words, detail words for this occurrence that never carry
// internal text, code the stable name a program acts on; field names the
// field or parameter at fault, permission the permission a 403 refused.
type Problem struct {
	Type       string `json:"type" doc:"A URN naming the kind of problem: urn:callin:problem: and the code."`
	Title      string `json:"title" doc:"The kind of problem in words (the same for every problem of its code)."`
	Status     int    `json:"status" doc:"The HTTP status of the answer."`
	Detail     string `json:"detail" doc:"This occurrence in words for people."`
	Code       string `json:"code" api:"errorCode"`
	Field      string `json:"field,omitempty" doc:"The field, parameter or header at fault, when one is."`
	Permission string `json:"permission,omitempty" doc:"On a 403: the permission the token's role lacks (as GET /me lists them)."`
	RequestID  string `json:"request_id,omitempty" doc:"The request's X-Request-Id, as the service's log names it."`
}

// ProblemMedia is the media type of a Problem.
const ProblemMedia = "application/problem+json"

// problemTitles are the titles of the codes.
var problemTitles = map[string]string{
	CodeBadRequest:   "Malformed request",
	CodeInvalid:      "Unacceptable value",
	CodeUnauthorized: "Not authenticated",
	CodeForbidden:    "Not permitted",
	CodeNotFound:     "Not found",
	CodeConflict:     "Conflict",
	CodeGone:         "The caller hung up",
	CodeUnavailable:  "Unavailable",
	CodeLimited:      "Too many requests",
	CodeTooLarge:     "Body too large",
	CodeMediaType:    "Unsupported media type",
	CodeTelephony:    "Telephony failed",
	CodeInternal:     "Internal error",
	CodeMethod:       "Method not allowed",
	CodeStale:        "Precondition failed",
	CodeNoMeasure:    "Nothing to measure",
	CodeStandby:      "Standing by",
}

// ProblemCodes are the codes a Problem may carry, for the document.
func ProblemCodes() []string {
	return []string{CodeBadRequest, CodeInvalid, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeConflict, CodeGone,
		CodeUnavailable, CodeLimited, CodeTooLarge, CodeMediaType, CodeTelephony, CodeInternal, CodeMethod, CodeStale, CodeNoMeasure, CodeStandby}
}

// ProblemType is the type URN of a code.
func ProblemType(code string) string { return "urn:callin:problem:" + code }

// NewProblem is the problem of code with status and detail, its type and
// title filled in.
func NewProblem(status int, code, detail string) Problem {
	title := problemTitles[code]
	if title == "" {
		title = http.StatusText(status)
	}
	return Problem{Type: ProblemType(code), Title: title, Status: status, Detail: detail, Code: code}
}
