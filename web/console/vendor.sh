#!/usr/bin/env bash
# Vendors the console's front-end packages from the npm registry into
# web/console/static (served and embedded in the binary) and the test-only ones into
# web/console/testdata, with their licences. Run it from anywhere; it needs npm and
# network access to registry.npmjs.org. Change a version here, run it, then
# update web/console/static/README.md and commit the files it wrote.
set -euo pipefail

web="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# package@version  file in the package  destination
pkgs=(
  "htmx.org@2.0.11      dist/htmx.min.js             static/htmx.min.js"
  "htmx-ext-sse@2.2.4   dist/sse.min.js              static/sse.min.js"
  "idiomorph@0.8.0      dist/idiomorph.min.js        static/idiomorph.min.js"
  "axe-core@4.14.1      axe.min.js                   testdata/axe.min.js"
)

mkdir -p "$web/static/licenses" "$web/testdata"
for line in "${pkgs[@]}"; do
  read -r spec file dest <<<"$line"
  name="${spec%@*}"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  tgz="$(ls "$tmp"/"${name//./-}"-*.tgz 2>/dev/null || ls "$tmp"/"$name"-*.tgz)"
  mkdir -p "$tmp/$name"
  tar xzf "$tgz" -C "$tmp/$name"
  cp "$tmp/$name/package/$file" "$web/$dest"
  licdir="$web/static/licenses"
  [[ "$dest" == testdata/* ]] && licdir="$web/testdata"
  cp "$tmp/$name/package/LICENSE" "$licdir/$name.LICENSE.txt"
  echo "vendored $spec: $file -> web/$dest"
done
