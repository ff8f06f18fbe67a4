#!/bin/sh
# Vendors the crates the build uses into src/rust/vendor.tar.xz, for a
# release tarball that builds offline (CRAN's rule) and stays under CRAN's
# 5 MB. Only what a build on CRAN's platforms needs goes in: normal and
# build dependencies (no dev-dependencies such as proptest) for the targets
# CRAN builds on (Linux, macOS and Windows, x86_64 and arm64); crates that
# Cargo.lock lists for other targets become empty stubs, and crates' tests,
# benches and examples are left out. cargo-vendor-filterer does the
# filtering, the same way every time: a pinned version, installed once
# under out/tools. The archive is never committed; src/rust/vendor-config.toml,
# which points cargo at it, is.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
filterer_version=0.5.18
tools="$top/out/tools"
filterer="$tools/bin/cargo-vendor-filterer"
PATH="$PATH:$HOME/.cargo/bin"

if ! "$filterer" --version 2>/dev/null | grep -qx "cargo-vendor-filterer $filterer_version"; then
  echo "Installing cargo-vendor-filterer $filterer_version into $tools (once)"
  cargo install --quiet --locked --version "$filterer_version" --root "$tools" cargo-vendor-filterer
fi

mkdir -p "$top/out"
cd "$top/src/rust"
rm -rf vendor vendor.tar.xz
"$filterer" --versioned-dirs --keep-dep-kinds=no-dev \
  --platform=x86_64-unknown-linux-gnu --platform=aarch64-unknown-linux-gnu \
  --platform=x86_64-apple-darwin --platform=aarch64-apple-darwin \
  --platform=x86_64-pc-windows-gnu --platform=aarch64-pc-windows-gnullvm \
  --exclude-crate-path='*#tests' --exclude-crate-path='*#benches' \
  --exclude-crate-path='*#examples' \
  vendor > "$top/out/vendor.log" 2>&1 || { cat "$top/out/vendor.log"; exit 1; }
# Sorted names and fixed metadata: the same crates give the same archive.
tar --sort=name --mtime='2000-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner \
  --no-xattrs -cJf vendor.tar.xz vendor
rm -rf vendor
echo "Wrote src/rust/vendor.tar.xz ($(du -h vendor.tar.xz | cut -f1))"
