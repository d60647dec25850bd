package sse_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/callin-radio/callin/internal/sse"
)

func TestRead(t *testing.T) {
	t.Parallel()
	stream := ": heartbeat\n\n" +
		"id: 7\nevent: transition\ndata: {\"seq\":1}\n\n" +
		"event: onair\r\ndata: <ul>\r\ndata: </ul>\r\n\r\n" +
		"data: no name\n\n" +
		"event: cut\ndata: off"
	var got []string
	err := sse.Read(strings.NewReader(stream), func(name, data string) { got = append(got, name+"|"+data) })
	if !errors.Is(err, io.EOF) {
		t.Errorf("error: got %v, want io.EOF", err)
	}
	want := []string{`transition|{"seq":1}`, "onair|<ul>\n</ul>", "|no name"}
	if !slices.Equal(got, want) {
		t.Errorf("events:\ngot  %q\nwant %q", got, want)
	}
}
