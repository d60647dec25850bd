// Package sse reads server-sent event streams: the client side of the
// event streams web serves, for callin-load and for tests.
package sse

import (
	"bufio"
	"io"
	"strings"
)

// Read calls f with the name and data of each event of the stream r, in
// order, until r ends or fails, and returns that error (io.EOF at the end).
// Lines of data are joined with "\n"; comments and ids are skipped.
func Read(r io.Reader, f func(name, data string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var name string
	var data strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if name != "" || data.Len() > 0 {
				f(name, data.String())
			}
			name = ""
			data.Reset()
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(line[len("data: "):])
		}
	}
}
