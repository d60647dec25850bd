#!/usr/bin/env bash
# Makes prompts/en/*.wav from prompts.txt with espeak-ng and sox (Debian
# packages espeak-ng and sox): 8 kHz, mono, 16-bit signed PCM, the format
# Asterisk plays without transcoding for 8 kHz callers. The WAV files are
# committed; run this only to change a text. Usage: prompts/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p en
grep -v '^#' prompts.txt | while IFS='|' read -r name text; do
	[ -n "$name" ] || continue
	raw=$(mktemp --suffix=.wav)
	espeak-ng -v en-us -s 150 -w "$raw" "$text"
	sox "$raw" -r 8000 -c 1 -b 16 -e signed-integer "en/$name.wav" norm -3 pad 0.1 0.2
	rm -f "$raw"
	echo "en/$name.wav"
done
