#!/bin/sh
# Vendors every crate the build needs into src/rust/vendor.tar.xz, for a
# release tarball that builds offline (CRAN's rule). The archive is never
# committed; src/rust/vendor-config.toml, which points cargo at it, is.
set -eu
cd "$(dirname "$0")/../src/rust"
rm -rf vendor vendor.tar.xz
cargo vendor --locked --versioned-dirs vendor > vendor-config.toml
tar -cJ --no-xattrs -f vendor.tar.xz vendor
rm -rf vendor
echo "Wrote src/rust/vendor.tar.xz ($(du -h vendor.tar.xz | cut -f1))"
