// Package prompts holds callin's default English prompts, the ones
// dialplan/ and the Stasis application play, as 8 kHz mono 16-bit WAV files
// (Asterisk's "wav" format, played to 8 kHz callers without transcoding),
// and installs them into an Asterisk sounds folder. A station replaces any
// of them with its own voice by putting a file of the same name there.
package prompts

import (
	"bytes"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed en/*.wav
var files embed.FS

// Names lists the prompts, without extension, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, "en")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".wav"))
	}
	slices.Sort(out)
	return out
}

// WAV returns a prompt's file.
func WAV(name string) ([]byte, error) {
	return files.ReadFile("en/" + name + ".wav")
}

// Installed is what Install did with one prompt.
type Installed struct {
	Name string
	Path string
	Kept bool // a file of that name was there already and was kept
}

// Install writes every prompt into dir (e.g. /var/lib/asterisk/sounds/en),
// creating it if need be. A file already there is kept, so a station's own
// recording is never overwritten, unless overwrite is set. Files are written
// whole, then renamed, so Asterisk never plays half a file.
func Install(dir string, overwrite bool) ([]Installed, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	var out []Installed
	for _, name := range Names() {
		path := filepath.Join(dir, name+".wav")
		if _, err := os.Stat(path); err == nil && !overwrite {
			out = append(out, Installed{Name: name, Path: path, Kept: true})
			continue
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, fmt.Errorf("prompts: %w", err)
		}
		b, _ := WAV(name)
		tmp := path + ".callin-tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return out, fmt.Errorf("prompts: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return out, fmt.Errorf("prompts: %w", err)
		}
		out = append(out, Installed{Name: name, Path: path})
	}
	return out, nil
}

// Format is a WAV file's audio format.
type Format struct {
	Channels   int
	SampleRate int
	Bits       int
	PCM        bool
}

// ReadFormat reads the format of a RIFF/WAVE file: what Asterisk's wav
// format needs is PCM, 1 channel, 8000 Hz, 16 bits.
func ReadFormat(b []byte) (Format, error) {
	if len(b) < 12 || !bytes.Equal(b[0:4], []byte("RIFF")) || !bytes.Equal(b[8:12], []byte("WAVE")) {
		return Format{}, errors.New("prompts: not a RIFF/WAVE file")
	}
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8:]
		if id == "fmt " && size >= 16 && len(body) >= 16 {
			return Format{
				PCM:        binary.LittleEndian.Uint16(body[0:2]) == 1,
				Channels:   int(binary.LittleEndian.Uint16(body[2:4])),
				SampleRate: int(binary.LittleEndian.Uint32(body[4:8])),
				Bits:       int(binary.LittleEndian.Uint16(body[14:16])),
			}, nil
		}
		p += 8 + size + size%2
	}
	return Format{}, errors.New("prompts: no fmt chunk")
}
