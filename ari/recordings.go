package ari

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// storedPath is the REST path of a stored recording. A name may hold
// folders ("callin/morning/x"): each segment is escaped, the slashes kept,
// as Asterisk's stored recordings are addressed.
func storedPath(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/recordings/stored/" + strings.Join(parts, "/")
}

// StoredRecordingFile opens a stored recording's file: GET
// /recordings/stored/{name}/file. The caller reads and closes the body;
// contentType is Asterisk's (audio/wav for wav). The client's request
// timeout does not bound the body (a long recording takes a while): ctx
// does. An error status is *Error (404: no such recording).
func (c *Client) StoredRecordingFile(ctx context.Context, name string) (body io.ReadCloser, contentType string, err error) {
	path := "/ari" + storedPath(name) + "/file"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, "", fmt.Errorf("ari: GET %s: %w", path, err)
	}
	req.SetBasicAuth(c.user, c.password)
	// The shared client's Timeout would cut a long file off: a client of
	// the same transport without it, bounded by ctx.
	hc := &http.Client{Transport: c.http.Transport, CheckRedirect: c.http.CheckRedirect}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("ari: GET %s: %w", path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		return nil, "", &Error{Method: http.MethodGet, Path: path, Status: resp.StatusCode, Message: errorMessage(resp.StatusCode, data)}
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

// DeleteStoredRecording deletes a stored recording and its file: DELETE
// /recordings/stored/{name}. 404 (ErrNotFound) when there is none.
func (c *Client) DeleteStoredRecording(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, storedPath(name), nil, nil, nil)
}
