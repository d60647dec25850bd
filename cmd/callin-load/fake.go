package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/callin-radio/callin/ari/aritest"
)

// fakeHeap measures the heap a fake Asterisk alone holds for n callers
// answered and in one holding bridge, with one events WebSocket reading.
func fakeHeap(ctx context.Context, n int) (uint64, error) {
	pbx := aritest.NewServer(aritest.Options{})
	defer pbx.Close()
	hdr := http.Header{}
	req, _ := http.NewRequest(http.MethodGet, pbx.URL(), nil)
	req.SetBasicAuth(pbx.User(), pbx.Password())
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	ws, _, err := websocket.Dial(ctx, pbx.WebSocketURL("callin"), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		return 0, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	go func() {
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	do := func(path string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, pbx.URL()+"/ari/"+path, nil)
		req.SetBasicAuth(pbx.User(), pbx.Password())
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: %s", path, resp.Status)
		}
		return nil
	}
	if err := do("bridges/hold?type=holding"); err != nil {
		return 0, err
	}
	before := liveHeap()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			id := fmt.Sprintf("load-%06d", i)
			if _, err := pbx.Call(gctx, aritest.CallOptions{Args: []string{loadShow}, ChannelID: id,
				Number: fmt.Sprintf("+1202%07d", i), Name: fmt.Sprintf("Load Caller %d", i)}); err != nil {
				return err
			}
			if err := do("channels/" + id + "/answer"); err != nil {
				return err
			}
			return do("bridges/hold/addChannel?channel=" + id)
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	after := liveHeap()
	if after < before {
		return 0, nil
	}
	return after - before, nil
}
