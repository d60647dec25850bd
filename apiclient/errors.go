package apiclient

import (
	"encoding/json"
	"fmt"
)

// Error is an answer of the API that is not a success (a status of 300 or
// more) as a Go error: its status and the RFC 9457 problem it carried
// (code, detail, the field at fault, the permission refused). Written by
// hand beside the generated client: get it with Check, or errors.As.
type Error struct {
	StatusCode int
	Problem    Problem
}

func (e *Error) Error() string {
	if e.Problem.Code == "" {
		return fmt.Sprintf("callin: %d", e.StatusCode)
	}
	msg := fmt.Sprintf("callin: %d %s: %s", e.StatusCode, e.Problem.Code, e.Problem.Detail)
	if e.Problem.Field != nil {
		msg += " (field " + *e.Problem.Field + ")"
	}
	return msg
}

// Answer is what every generated ...WithResponse answer has.
type Answer interface{ StatusCode() int }

// Check returns nil for an answer of 2xx, else an *Error with the problem
// of body (the answer's Body; a body that is no problem leaves Problem
// zero). err, a transport error of the call, is returned as it is:
//
//	r, err := c.PromoteCallerWithResponse(ctx, show, id, params)
//	if err := apiclient.Check(r, r.Body, err); err != nil { ... }
func Check(r Answer, body []byte, err error) error {
	if err != nil {
		return err
	}
	if s := r.StatusCode(); s >= 300 {
		e := &Error{StatusCode: s}
		_ = json.Unmarshal(body, &e.Problem)
		return e
	}
	return nil
}
