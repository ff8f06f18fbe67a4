#!/bin/sh
# Checks that configure (tools/config.R) stops with a helpful message when
# cargo is missing and when rustc is older than DESCRIPTION requires.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R DESCRIPTION tools src "$tmp"/
cd "$tmp"
rscript="$(command -v Rscript)"

if env PATH=/nonexistent HOME=/nonexistent "$rscript" tools/config.R > out.txt 2>&1; then
  echo "configure succeeded without cargo"; exit 1
fi
grep -q "cargo or rustc was not found" out.txt || { cat out.txt; exit 1; }
echo "ok: a missing cargo stops configure with what to install"

sed -i 's/rustc >= [0-9.]*/rustc >= 999.0/' DESCRIPTION
if "$rscript" tools/config.R > out.txt 2>&1; then
  echo "configure accepted a rustc older than required"; exit 1
fi
grep -q "is too old: the minimum is 999.0" out.txt || { cat out.txt; exit 1; }
echo "ok: an old rustc stops configure with the minimum version"
