package ari

import (
	"context"
	"net/http"
	"net/url"
)

// SetGlobalVar sets a dialplan global variable on the node: POST
// /asterisk/variable?variable=NAME&value=VALUE (answered 204; 400 for an
// empty name). An empty value leaves the variable empty, which the
// dialplan reads as unset. Globals set this way are lost when Asterisk
// restarts (TestContractGlobalVar) but kept by a dialplan or core reload
// (seen on 22.10.1, whose clearglobalvars defaults to no): set them again
// after reconnecting.
// callin marks a full node this way (CALLIN_FULL_<show>, read by
// dialplan/extensions.conf's [callin-ivr]; TestContractGlobalVar).
func (c *Client) SetGlobalVar(ctx context.Context, name, value string) error {
	q := url.Values{"variable": {name}, "value": {value}}
	return c.do(ctx, http.MethodPost, "/asterisk/variable", q, nil, nil)
}

// GlobalVar reads a dialplan global variable: GET
// /asterisk/variable?variable=NAME. A variable never set reads as ""
// (Asterisk answers 200 {"value": ""}, not 404).
func (c *Client) GlobalVar(ctx context.Context, name string) (string, error) {
	var v struct {
		Value string `json:"value"`
	}
	if err := c.do(ctx, http.MethodGet, "/asterisk/variable", url.Values{"variable": {name}}, nil, &v); err != nil {
		return "", err
	}
	return v.Value, nil
}
