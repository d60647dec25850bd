package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callin-radio/callin/prompts"
)

// wavHeader is a RIFF/WAVE file of PCM with no samples.
func wavHeader(rate, channels, bits int) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1)) // PCM
	w(uint16(channels))
	w(uint32(rate))
	w(uint32(rate * channels * bits / 8))
	w(uint16(channels * bits / 8))
	w(uint16(bits))
	b.WriteString("data")
	w(uint32(0))
	return b.Bytes()
}

// TestPrompts: `callin prompts install` puts every prompt into the sounds
// folder and keeps what a station recorded unless --force; `list` tells
// which is which.
func TestPrompts(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sounds", "en")
	cmd := func(env map[string]string, args ...string) string {
		t.Helper()
		var out, errOut strings.Builder
		if err := run(context.Background(), args, strings.NewReader(""), &out, &errOut, envMap(env)); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	file := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	names := prompts.Names()
	if len(names) == 0 {
		t.Fatal("no prompts")
	}

	t.Run("List", func(t *testing.T) {
		out := cmd(nil, "prompts", "list", "--dir", dir)
		for _, n := range names {
			if !strings.Contains(out, n+" ") {
				t.Errorf("list does not name %s:\n%s", n, out)
			}
		}
		if got := strings.Count(out, "missing"); got != len(names) {
			t.Errorf("%d missing before install, want %d:\n%s", got, len(names), out)
		}
	})

	t.Run("Install", func(t *testing.T) {
		out := cmd(nil, "prompts", "install", "--dir", dir)
		for _, n := range names {
			if !strings.Contains(out, "installed  "+filepath.Join(dir, n+".wav")) {
				t.Errorf("install does not report %s:\n%s", n, out)
			}
			if def, _ := prompts.WAV(n); !bytes.Equal(file(n), def) {
				t.Errorf("%s is not the default prompt", n)
			}
		}
		if !strings.Contains(out, "installed, 0 up to date, 0 of the station's own kept") {
			t.Errorf("summary:\n%s", out)
		}
	})

	// The station records two prompts: one fit for Asterisk, one not.
	own := append(wavHeader(8000, 1, 16), "and then the station's own voice"...)
	stereo := wavHeader(44100, 2, 16)
	ownName, badName := names[0], names[1]
	for name, b := range map[string][]byte{ownName: own, badName: stereo} {
		if err := os.WriteFile(filepath.Join(dir, name+".wav"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("KeepsOwnRecordings", func(t *testing.T) {
		// CALLIN_DIR is --dir, as for every flag.
		out := cmd(map[string]string{"CALLIN_DIR": dir}, "prompts", "install")
		if !bytes.Equal(file(ownName), own) || !bytes.Equal(file(badName), stereo) {
			t.Fatal("install without --force replaced a station's recording")
		}
		for _, want := range []string{
			"kept       " + filepath.Join(dir, ownName+".wav") + " (own recording; --force replaces it)",
			"kept       " + filepath.Join(dir, badName+".wav") + " (own recording, but 44100 Hz, 2 channels, 16-bit: convert it with sox IN.wav -r 8000 -c 1 -b 16 " + badName + ".wav",
			"up to date " + filepath.Join(dir, names[2]+".wav"),
			"0 installed, ",
			"2 of the station's own kept",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("install does not say %q:\n%s", want, out)
			}
		}
		out = cmd(nil, "prompts", "list", "--dir", dir)
		if !strings.Contains(out, ownName+"  ") || strings.Count(out, "own recording") != 2 || strings.Count(out, "the default") != len(names)-2 {
			t.Errorf("list:\n%s", out)
		}
	})

	t.Run("Force", func(t *testing.T) {
		out := cmd(nil, "prompts", "install", "--force", "--dir", dir)
		for _, n := range []string{ownName, badName} {
			if def, _ := prompts.WAV(n); !bytes.Equal(file(n), def) {
				t.Errorf("--force kept %s", n)
			}
		}
		if !strings.Contains(out, "installed, 0 up to date, 0 of the station's own kept") {
			t.Errorf("summary:\n%s", out)
		}
	})
}

// TestSoundsDir: the prompts go where this machine's Asterisk reads sounds:
// its asterisk.conf's astdatadir (a Debian package has /usr/share/asterisk),
// else a source build's /var/lib/asterisk.
func TestSoundsDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ name, conf, want string }{
		{"debian", "[directories](!)\nastetcdir => /etc/asterisk\nastdatadir => /usr/share/asterisk ; sounds\n", "/usr/share/asterisk/sounds/en"},
		{"equals", "[options]\nastdatadir = /nope\n[directories]\nastdatadir = /srv/ast\n", "/srv/ast/sounds/en"},
		{"commented", "[directories]\n;astdatadir => /usr/share/asterisk\n", defaultSoundsDir},
		{"relative", "[directories]\nastdatadir => share\n", defaultSoundsDir},
	} {
		conf := filepath.Join(dir, tc.name+".conf")
		if err := os.WriteFile(conf, []byte(tc.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := soundsDir(conf); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := soundsDir(filepath.Join(dir, "missing.conf")); got != defaultSoundsDir {
		t.Errorf("no asterisk.conf: %q, want %q", got, defaultSoundsDir)
	}
}
