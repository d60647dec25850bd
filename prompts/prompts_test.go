package prompts_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/prompts"
)

// TestFormat: every prompt is what Asterisk plays to 8 kHz callers without
// transcoding.
func TestFormat(t *testing.T) {
	t.Parallel()
	if len(prompts.Names()) == 0 {
		t.Fatal("no prompts embedded")
	}
	for _, name := range prompts.Names() {
		b, err := prompts.WAV(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := prompts.ReadFormat(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f != (prompts.Format{Channels: 1, SampleRate: 8000, Bits: 16, PCM: true}) {
			t.Errorf("%s: %+v, want PCM mono 8000 Hz 16-bit", name, f)
		}
		if len(b) < 8000 { // under half a second of audio
			t.Errorf("%s: %d bytes: too short to say anything", name, len(b))
		}
	}
}

// TestEveryPlayedPromptShips: each prompt the dialplan and the Stasis
// application play by default is one of ours, or one of Asterisk's core
// sounds named in coreSounds.
func TestEveryPlayedPromptShips(t *testing.T) {
	t.Parallel()
	coreSounds := map[string]bool{"vm-goodbye": true, "minute": true, "minutes": true} // in every Asterisk's core sounds
	ours := prompts.Names()
	conf, err := os.ReadFile(filepath.Join("..", "dialplan", "extensions.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var played []string
	for _, m := range regexp.MustCompile(`(?m)^[^;]*\b(?:Playback|Background)\(([^)]*)\)`).FindAllStringSubmatch(string(conf), -1) {
		for _, p := range regexp.MustCompile(`[&,]`).Split(m[1], -1) {
			if p != "" && p != "noanswer" && p != "skip" {
				played = append(played, p)
			}
		}
	}
	m := broadcast.DefaultMedia()
	for _, list := range [][]string{m.Closed, m.Full, m.Blocked, m.Goodbye, m.Position,
		m.CallbackOffer, m.CallbackConfirm, m.CallbackReturn, m.ReadyCheck, m.WaitAbout} {
		for _, media := range list {
			if name, ok := cutSound(media); ok {
				played = append(played, name)
			}
		}
	}
	if len(played) < 5 {
		t.Fatalf("found only %v: the patterns no longer match the dialplan", played)
	}
	for _, p := range played {
		if !slices.Contains(ours, p) && !coreSounds[p] {
			t.Errorf("%q is played but not shipped in prompts/en", p)
		}
	}
}

func cutSound(media string) (string, bool) {
	const pre = "sound:"
	if len(media) > len(pre) && media[:len(pre)] == pre {
		return media[len(pre):], true
	}
	return "", false
}

// TestInstall writes every prompt once and keeps a station's own files.
func TestInstall(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sounds", "en")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(dir, "callin-welcome.wav")
	if err := os.WriteFile(own, []byte("the station's own"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := prompts.Install(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(prompts.Names()) {
		t.Fatalf("installed %d, want %d", len(got), len(prompts.Names()))
	}
	for _, in := range got {
		b, err := os.ReadFile(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		if in.Name == "callin-welcome" {
			if !in.Kept || string(b) != "the station's own" {
				t.Errorf("the station's own welcome was overwritten")
			}
			continue
		}
		if _, err := prompts.ReadFormat(b); err != nil || in.Kept {
			t.Errorf("%s: %v (kept %t)", in.Name, err, in.Kept)
		}
	}
	if _, err := prompts.Install(dir, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(own); string(b) == "the station's own" {
		t.Error("overwrite kept the old file")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.callin-tmp"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
