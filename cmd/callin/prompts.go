package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/callin-radio/callin/prompts"
)

// defaultSoundsDir is where a source-built Asterisk looks for English
// sounds ("sound:callin-welcome" plays callin-welcome.wav there), when its
// asterisk.conf does not say (soundsDir).
const defaultSoundsDir = "/var/lib/asterisk/sounds/en"

// asteriskConf is Asterisk's main configuration, whose [directories]
// section names the data folder the sounds are in.
const asteriskConf = "/etc/asterisk/asterisk.conf"

// soundsDir is the English sounds folder of the Asterisk on this machine:
// astdatadir from conf (a Debian package has /usr/share/asterisk) plus
// sounds/en, else defaultSoundsDir.
func soundsDir(conf string) string {
	b, err := os.ReadFile(conf)
	if err != nil {
		return defaultSoundsDir
	}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, ";")
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section, _, _ = strings.Cut(strings.TrimPrefix(line, "["), "]")
			section = strings.TrimSpace(section)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "directories" || strings.TrimSpace(k) != "astdatadir" {
			continue
		}
		if dir := strings.TrimSpace(strings.TrimPrefix(v, ">")); filepath.IsAbs(dir) {
			return filepath.Join(dir, "sounds", "en")
		}
	}
	return defaultSoundsDir
}

const promptsUsage = `Usage: callin prompts install|list [flags]

  install   copy callin's default English prompts into Asterisk's sounds
            folder, keeping the station's own recordings (--force replaces them)
  list      list the prompts and what the sounds folder holds for each

Run 'callin prompts <subcommand> -h' for its flags.
`

func cmdPrompts(args []string, stdout, stderr io.Writer, env envFunc) error {
	sub, err := subcommand("prompts", args, []string{"install", "list"}, promptsUsage, stdout, stderr)
	if sub == "" {
		return err
	}
	fs := flag.NewFlagSet("prompts "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", soundsDir(asteriskConf), "Asterisk's sounds folder for the prompts' language (the default is astdatadir of "+asteriskConf+" plus sounds/en, else "+defaultSoundsDir+")")
	force := new(bool)
	if sub == "install" {
		fs.BoolVar(force, "force", false, "replace the files already there, a station's own recordings too")
	}
	if err := parseFlags(fs, args[1:], env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("%s: takes no arguments (got %q)", fs.Name(), fs.Arg(0))
	}
	if sub == "list" {
		return listPrompts(*dir, stdout)
	}
	return installPrompts(*dir, *force, stdout)
}

// installPrompts installs the prompts into dir and says what it did with
// each: installed, already the default, or a station's recording kept.
func installPrompts(dir string, force bool, stdout io.Writer) error {
	done, err := prompts.Install(dir, force)
	var installed, current, kept int
	for _, p := range done {
		switch st := promptState(p.Path, p.Name); {
		case !p.Kept:
			installed++
			fmt.Fprintf(stdout, "installed  %s\n", p.Path)
		case st == stateDefault:
			current++
			fmt.Fprintf(stdout, "up to date %s\n", p.Path)
		default:
			kept++
			fmt.Fprintf(stdout, "kept       %s (%s; --force replaces it)\n", p.Path, st)
		}
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%w (run it as root or as Asterisk's user, or give --dir)", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "%d prompts in %s: %d installed, %d up to date, %d of the station's own kept\n", len(done), dir, installed, current, kept)
	return nil
}

// listPrompts lists every prompt and what dir holds for it.
func listPrompts(dir string, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME\tIN %s\n", dir)
	for _, name := range prompts.Names() {
		fmt.Fprintf(tw, "%s\t%s\n", name, promptState(filepath.Join(dir, name+".wav"), name))
	}
	return tw.Flush()
}

// The states of an installed prompt that are not a station's recording.
const (
	stateMissing = "missing"
	stateDefault = "the default"
)

// promptState says what the file at path is: missing, callin's default
// prompt name, or the station's own recording, with a warning if
// Asterisk's wav format cannot play it as it is.
func promptState(path, name string) string {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return stateMissing
	case err != nil:
		return "unreadable: " + err.Error()
	}
	if def, _ := prompts.WAV(name); bytes.Equal(b, def) {
		return stateDefault
	}
	f, err := prompts.ReadFormat(b)
	if err != nil || !f.PCM || f.Channels != 1 || f.SampleRate != 8000 || f.Bits != 16 {
		what := "not a WAV file"
		if err == nil {
			what = fmt.Sprintf("%d Hz, %d channels, %d-bit", f.SampleRate, f.Channels, f.Bits)
			if !f.PCM {
				what += ", not PCM"
			}
		}
		return "own recording, but " + what + ": convert it with sox IN.wav -r 8000 -c 1 -b 16 " + filepath.Base(path)
	}
	return "own recording"
}
