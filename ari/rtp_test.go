package ari_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
)

// wantRTPError checks an RTPStatistics error: its sentinel, and the status
// and message as Asterisk sent them.
func wantRTPError(t *testing.T, err error, is error, status int, message string) {
	t.Helper()
	var ae *ari.Error
	if !errors.Is(err, is) || !errors.As(err, &ae) || ae.Status != status || ae.Message != message {
		t.Errorf("got %v, want %v (%d %q)", err, is, status, message)
	}
}

// TestRTPStatistics: line statistics over the fake Asterisk: 200 for a SIP
// caller, 403 for a Local one (no RTP of its own), 404 for no channel, as
// trace 16 shows.
func TestRTPStatistics(t *testing.T) {
	t.Parallel()
	srv := aritest.NewServer(aritest.Options{})
	t.Cleanup(srv.Close)
	c, err := ari.NewClient(ari.Config{URL: srv.URL(), Username: srv.User(), Password: srv.Password(), App: "callin", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	connectStream(t, c, ari.EventOptions{}) // callers reach only a connected app
	ctx := context.Background()

	t.Run("SIP", func(t *testing.T) {
		if _, err := srv.Call(ctx, aritest.CallOptions{ChannelID: "sip1", SIP: true, Args: []string{"show1"}}); err != nil {
			t.Fatal(err)
		}
		st, err := c.RTPStatistics(ctx, "sip1")
		if err != nil {
			t.Fatal(err)
		}
		if st.ChannelUniqueID != "sip1" || st.LocalSSRC != 286696211 || st.RemoteSSRC != 3390111744 || st.TxJitter != 0.0005 || st.LocalMaxJitter != 0.0025 {
			t.Errorf("got %+v", *st)
		}
		if st.TxOctetCount != st.TxCount*160 {
			t.Errorf("txoctetcount %d, want 160 per packet of %d", st.TxOctetCount, st.TxCount)
		}
		// Every field the fake sends is modelled.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/ari/channels/sip1/rtp_statistics", nil)
		req.SetBasicAuth(srv.User(), srv.Password())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(new(ari.RTPStats)); err != nil {
			t.Errorf("the fake's body: %v", err)
		}
	})

	t.Run("ErrForbiddenLocal", func(t *testing.T) {
		if _, err := srv.Call(ctx, aritest.CallOptions{ChannelID: "local1", Args: []string{"show1"}}); err != nil {
			t.Fatal(err)
		}
		st, err := c.RTPStatistics(ctx, "local1")
		if st != nil {
			t.Errorf("got %+v with the error", *st)
		}
		wantRTPError(t, err, ari.ErrForbidden, 403, "Unsupported channel type")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.RTPStatistics(ctx, "no-such-channel")
		wantRTPError(t, err, ari.ErrNotFound, 404, "Channel not found")
	})
}

// TestContractRTPStatistics: a Local caller has no RTP statistics (403)
// and an unknown channel none at all (404), on the fake and on a real
// Asterisk (TEST_ARI_URL).
func TestContractRTPStatistics(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.client
	ctx := context.Background()
	s := connectStream(t, c, ari.EventOptions{})
	id := "rtp-" + strings.ReplaceAll(t.Name(), "/", "-")
	originateCaller(t, s, c, id)
	t.Cleanup(func() { c.HangupChannel(ctx, id, "") })

	_, err := c.RTPStatistics(ctx, id)
	wantRTPError(t, err, ari.ErrForbidden, 403, "Unsupported channel type")
	_, err = c.RTPStatistics(ctx, id+"-nobody")
	wantRTPError(t, err, ari.ErrNotFound, 404, "Channel not found")
}

// TestRTPStatsTrace decodes the body a real Asterisk 22 sent in trace 16,
// with every field modelled, and checks the client returns the same.
func TestRTPStatsTrace(t *testing.T) {
	t.Parallel()
	body := traceResponse(t, "aritest/testdata/16-line-quality.jsonl", "/rtp_statistics", 200)
	var got ari.RTPStats
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	want := ari.RTPStats{
		TxCount: 151, RxCount: 151, TxOctetCount: 24160, RxOctetCount: 24160,
		TxJitter: 0.0005, LocalMaxJitter: 0.0025, LocalNormDevJitter: 0.0004981617647058824, LocalStdevJitter: 0.0005135984672844008,
		LocalSSRC: 286696211, RemoteSSRC: 3390111744, ChannelUniqueID: "1796011850.2",
	}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	srv := newRESTServer(t)
	srv.respond(200, string(body))
	st, err := newClient(t, srv.URL).RTPStatistics(context.Background(), "1796011850.2")
	if err != nil || !reflect.DeepEqual(*st, want) {
		t.Errorf("RTPStatistics: got %+v, %v", st, err)
	}
	if r := srv.last(t); r.Method != "GET" || r.Path != "/ari/channels/1796011850.2/rtp_statistics" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
}

// traceResponse returns the body of the first response in a trace file
// whose path ends with suffix and whose status is status.
func traceResponse(t *testing.T, file, suffix string, status int) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var rec struct {
			Kind   string          `json:"kind"`
			Path   string          `json:"path"`
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if rec.Kind == "response" && rec.Status == status && strings.HasSuffix(rec.Path, suffix) {
			return rec.Body
		}
	}
	t.Fatalf("%s: no %d response to ...%s", file, status, suffix)
	return nil
}
