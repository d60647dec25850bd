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
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/ari/pbxtest"
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

// TestContractRTPStatistics: line statistics of a SIP caller (200, with
// packets counted both ways as RTP flows), none for a Local caller (403,
// no RTP of its own) and none for an unknown channel (404), on the fake
// and on a real Asterisk with a real SIP caller (sipp, streaming a tone,
// hearing a prompt played to it).
func TestContractRTPStatistics(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		n := b.newNode(t)
		c := n.client
		ctx := context.Background()
		s := connectStream(t, c, ari.EventOptions{})

		t.Run("ErrForbiddenLocal", func(t *testing.T) {
			s := s.in(t)
			id := "rtp-local"
			originateCaller(t, s, c, id)
			t.Cleanup(func() { c.HangupChannel(ctx, id, "") })
			st, err := c.RTPStatistics(ctx, id)
			if st != nil {
				t.Errorf("got %+v with the error", *st)
			}
			wantRTPError(t, err, ari.ErrForbidden, 403, "Unsupported channel type")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := c.RTPStatistics(ctx, "rtp-nobody")
			wantRTPError(t, err, ari.ErrNotFound, 404, "Channel not found")
		})
		t.Run("SIP", func(t *testing.T) {
			s := s.in(t)
			id, hangup := sipCaller(t, n, s)
			// What Asterisk sends the caller: a prompt, to its end.
			pb := id + "-pb"
			if _, err := c.PlayChannel(ctx, id, pb, "sound:callin-goodbye"); err != nil {
				t.Fatal(err)
			}
			fin := s.want(func(e ari.Event) bool { return e.EventType() == ari.TypePlaybackFinished && ari.PlaybackID(e) == pb }, "PlaybackFinished").(*ari.PlaybackFinished)
			if fin.Playback.State != ari.PlaybackDone {
				t.Errorf("playback state %q, want done", fin.Playback.State)
			}
			// RTP counts have no event: poll until packets were counted
			// both ways.
			var st *ari.RTPStats
			deadline := time.Now().Add(10 * time.Second)
			for {
				var err error
				if st, err = c.RTPStatistics(ctx, id); err != nil {
					t.Fatal(err)
				}
				if st.TxCount > 0 && st.RxCount > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if st.TxCount == 0 || st.RxCount == 0 {
				t.Errorf("no RTP counted: tx %d rx %d packets", st.TxCount, st.RxCount)
			}
			// ulaw, 20 ms a packet: 160 bytes each (trace 16), except that
			// the real Asterisk sends the end of a prompt as it is: the
			// last packet of callin-goodbye (23,906 samples) held 44 bytes
			// (tx 23,884 octets in 150 packets).
			if st.RxOctetCount != 160*st.RxCount {
				t.Errorf("rx %d octets in %d packets, want 160 a packet", st.RxOctetCount, st.RxCount)
			}
			if st.TxOctetCount > 160*st.TxCount || st.TxOctetCount <= 160*(st.TxCount-1) {
				t.Errorf("tx %d octets in %d packets, want 160 a packet but for the last", st.TxOctetCount, st.TxCount)
			}
			if n.pbx != nil {
				// Nothing else was played to the caller: the octets sent
				// are the prompt's samples, to within a packet.
				samples := int64(promptLength(t, "callin-goodbye") * 8000 / time.Second)
				if d := st.TxOctetCount - samples; d < -160 || d > 160 {
					t.Errorf("tx %d octets for a prompt of %d samples: the caller did not get the whole prompt", st.TxOctetCount, samples)
				}
			}
			if st.ChannelUniqueID != id || st.LocalSSRC == 0 || st.RemoteSSRC == 0 {
				t.Errorf("channel_uniqueid %q (want %q), ssrc local %d remote %d (want both set)", st.ChannelUniqueID, id, st.LocalSSRC, st.RemoteSSRC)
			}
			if n.pbx != nil {
				// Every field the real Asterisk sends is modelled.
				code, body, err := n.pbx.Get(ctx, "/channels/"+id+"/rtp_statistics")
				if err != nil || code != 200 {
					t.Fatalf("GET rtp_statistics: %d %v", code, err)
				}
				dec := json.NewDecoder(bytes.NewReader(body))
				dec.DisallowUnknownFields()
				if err := dec.Decode(new(ari.RTPStats)); err != nil {
					t.Errorf("the real body: %v\n%s", err, body)
				}
			}
			// Gone with the call.
			hangup()
			s.want(isType(ari.TypeStasisEnd, id), "StasisEnd")
			_, err := c.RTPStatistics(ctx, id)
			wantRTPError(t, err, ari.ErrNotFound, 404, "Channel not found")
		})
	})
}

// sipCaller puts a SIP caller into the node's app and returns its channel
// id and a function that hangs it up from its side (a BYE): on the fake a
// PJSIP-style caller, on a real Asterisk a sipp caller dialling 55590
// (sipCallerDialplan). An external node is skipped.
func sipCaller(t *testing.T, n *node, s *stream) (string, func()) {
	t.Helper()
	ctx := context.Background()
	switch {
	case n.fake != nil:
		id := "rtp-sip"
		call, err := n.fake.Call(ctx, aritest.CallOptions{App: n.client.App(), ChannelID: id, SIP: true, Answered: true, Args: []string{"show1"}})
		if err != nil {
			t.Fatal(err)
		}
		s.want(isType(ari.TypeStasisStart, id), "StasisStart of the SIP caller")
		return id, func() {
			if err := call.Hangup(16); err != nil {
				t.Fatal(err)
			}
		}
	case n.pbx != nil:
		n.pbx.Callers(t, pbxtest.CallerConfig{Number: "55590", Count: 1})
		st := s.want(func(e ari.Event) bool {
			st, ok := e.(*ari.StasisStart)
			return ok && strings.HasPrefix(st.Channel.Name, "PJSIP/")
		}, "StasisStart of the SIP caller").(*ari.StasisStart)
		return st.Channel.ID, func() {
			if err := n.pbx.Hangup(ctx, st.Channel.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Skip("needs a SIP caller: not on an external Asterisk")
	return "", nil
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
