#!/usr/bin/env bash
# build-portable.sh SHARED OUT — builds the Asterisk of SHARED (the folder of
# shared/asterisk: its src/ and asterisk-run) for any x86-64 CPU and lays OUT
# out like SHARED, so that CALLIN_ASTERISK=OUT runs the tests on it.
#
# Why: the prebuilt tree in SHARED was compiled with Asterisk's default
# BUILD_NATIVE (-march=native) on a CPU with AVX-512; on one without it
# (seen: an AMD EPYC with AVX2 only) Asterisk dies at start with SIGILL
# ("Illegal instruction" in DIR/log/start.log). This is SHARED's own
# build-from-source.sh with BUILD_NATIVE off, nothing else changed: the
# same sources, modules and stripping, and the tree packed apart from the
# sources (build-from-source.sh packs the whole source folder, the tree
# inside it). About 10 minutes on 2 cores.
#
# Needs (Debian): build-essential libjansson-dev libedit-dev libxml2-dev
# libsqlite3-dev uuid-dev libssl-dev libcurl4-openssl-dev pkg-config bzip2
# patch libncurses-dev xz-utils.
set -euo pipefail
shared=$(cd "${1:?usage: build-portable.sh SHARED OUT}" && pwd)
out=${2:?usage: build-portable.sh SHARED OUT}
version=22.10.1
mkdir -p "$out"; out=$(cd "$out" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cache"; cp "$shared/src/pjproject-2.17.tar.bz2" "$work/cache/"
tar -xzf "$shared/src/asterisk-$version.tar.gz" -C "$work"
cd "$work/asterisk-$version"
echo $version > .version
prefix=/opt/asterisk # compiled in as the default; asterisk-run overrides every folder
./configure --prefix=$prefix --with-pjproject-bundled --with-download-cache="$work/cache" > "$out/configure.log" 2>&1
make menuselect.makeopts > /dev/null
menuselect/menuselect --disable-category MENUSELECT_CORE_SOUNDS --disable-category MENUSELECT_MOH \
	--disable-category MENUSELECT_EXTRA_SOUNDS --disable-category MENUSELECT_TESTS --disable chan_iax2 \
	--disable chan_unistim --disable pbx_dundi --disable res_hep --disable res_hep_pjsip --disable res_hep_rtcp \
	--disable BUILD_NATIVE menuselect.makeopts
# The bundled pjproject's parallel build once failed here (its audiodev
# library, Error 2, with nothing else in the log) and passed on another
# run: make takes it up again one job at a time.
make -j"$(nproc)" > "$out/make.log" 2>&1 || make > "$out/make-again.log" 2>&1
make install DESTDIR="$work/root" > "$out/install.log" 2>&1
t=$work/asterisk-$version-tree; mkdir -p "$t/sbin" "$t/lib" "$t/var/lib/asterisk"
cp -a "$work/root$prefix/sbin/asterisk" "$t/sbin/"
cp -a "$work/root$prefix/lib/"libasterisk* "$work/root$prefix/lib/asterisk" "$t/lib/"
cp -a "$work/root$prefix/var/lib/asterisk/documentation" "$work/root$prefix/var/lib/asterisk/rest-api" "$t/var/lib/asterisk/"
find "$t" -type f \( -name '*.so*' -o -path '*/sbin/asterisk' \) -exec strip --strip-unneeded {} \;
# Packed on its own (not where the sources are, which have its name):
# asterisk-run unpacks the tarball's one folder as the tree.
mkdir "$work/pack"; mv "$t" "$work/pack/asterisk-$version"
tar -C "$work/pack" -cf - "asterisk-$version" | xz -T0 -6 > "$out/asterisk-$version-bin.tar.xz"
# asterisk-run finds the tarball beside itself (a copy, not a link: it
# resolves links), and conf/ too; sipp/ and examples/ for the tests.
for f in asterisk-run conf sipp examples; do
	[ -e "$shared/$f" ] && cp -a "$shared/$f" "$out/"
done
echo "$out"
