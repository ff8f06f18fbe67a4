#!/bin/sh
# Checks a release tarball on Debian 13 ("trixie": R 4.5, glibc 2.41,
# rustc 1.85), in a minimal chroot made with debootstrap and kept under
# out/trixie between runs:
#   1. the library built on this machine loads there (glibc 2.41 refuses a
#      library that asks for an executable stack);
#   2. R CMD check --as-cran of the tarball, tests included, with the crates
#      from its vendor.tar.xz and no network at all (a network namespace of
#      its own), must end with no ERROR and no WARNING.
# It prints the GNU_STACK flags of both libraries and the check's status.
# Needs root (debootstrap, chroot, namespaces) and Debian's mirror; when it
# cannot run, it says why and fails: a check that silently skips hides
# what it exists to catch.
# Usage: tools/check-debian13.sh TARBALL HOST_LIBRARY
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
tarball="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
host_library="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
root="$top/out/trixie"
mirror="${DEBIAN13_MIRROR:-http://deb.debian.org/debian}"
work=/tmp/rwbridge-check

cannot_run() {
  echo "Debian 13 check: CANNOT RUN: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] ||
  cannot_run "it needs root for debootstrap, chroot and namespaces; run 'sudo make test'."
command -v unshare >/dev/null 2>&1 || cannot_run "unshare (util-linux) is missing."
command -v ip >/dev/null 2>&1 || "$top/tools/setup-debian.sh" iproute2 ||
  cannot_run "ip (iproute2) is missing and could not be installed with apt-get."
command -v debootstrap >/dev/null 2>&1 || "$top/tools/setup-debian.sh" debootstrap ||
  cannot_run "debootstrap is missing and could not be installed with apt-get."
[ -f "$tarball" ] || cannot_run "no tarball at $tarball (make release)."
[ -f "$host_library" ] || cannot_run "no library at $host_library (make install)."

# What R CMD check needs there: R, the Rust toolchain and the check tools
# from Debian 13's own apt, and DESCRIPTION's Suggests as r-cran-* packages.
suggests=$(Rscript -e 'cat(tolower(trimws(sub("\\(.*", "", strsplit(read.dcf("'"$top"'/DESCRIPTION", "Suggests")[[1]], ",")[[1]]))))' |
  tr ' ' '\n' | grep -v '^$' | sed 's/^/r-cran-/' | tr '\n' ' ')
packages="r-base-dev cargo rustc xz-utils binutils qpdf pandoc tidy devscripts $suggests"

# Runs a command in the chroot, in a mount namespace of its own: /proc and
# /dev/shm are mounted there and vanish with it, so nothing is left mounted
# under out/ (where `make clean` removes files). "offline" adds a network
# namespace with no interface but loopback.
in_chroot() {
  mode="$1"
  shift
  net=""
  [ "$mode" = offline ] && net="--net"
  unshare --mount --propagation private $net sh -c '
    root="$1"; mode="$2"; shift 2
    mount -t proc proc "$root/proc"
    mount -t tmpfs tmpfs "$root/dev/shm"
    # Loopback only: tests start R workers on 127.0.0.1.
    if [ "$mode" = offline ]; then ip link set lo up; fi
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  ' in_chroot "$root" "$mode" "$@"
}

if [ ! -f "$root/.rwbridge-debootstrapped" ]; then
  echo "Debian 13 check: making a chroot in $root (once; about a minute)"
  rm -rf "$root"
  mkdir -p "$root"
  debootstrap --variant=minbase trixie "$root" "$mirror" > "$top/out/trixie-debootstrap.log" 2>&1 ||
    cannot_run "debootstrap failed (is $mirror reachable?); see out/trixie-debootstrap.log."
  touch "$root/.rwbridge-debootstrapped"
fi
if [ "$(cat "$root/.rwbridge-packages" 2>/dev/null)" != "$packages" ]; then
  echo "Debian 13 check: installing in the chroot: $packages"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  in_chroot online sh -c "DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages" \
    > "$top/out/trixie-apt.log" 2>&1 ||
    cannot_run "apt-get in the chroot failed; see out/trixie-apt.log."
  printf '%s' "$packages" > "$root/.rwbridge-packages"
fi

rm -rf "$root$work"
mkdir -p "$root$work/host"
cp "$tarball" "$root$work/"
cp "$host_library" "$root$work/host/"
name="$(basename "$tarball")"
so="$(basename "$host_library")"

stack_flags() {
  readelf -lW "$1" | awk '/GNU_STACK/ { print $7 }'
}
echo "Debian 13 check: $(in_chroot offline sh -c 'R --version | head -n 1; ldd --version | head -n 1; rustc --version' | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
echo "Debian 13 check: GNU_STACK of the library built here: $(stack_flags "$host_library")"

status=0
in_chroot offline Rscript -e "
  dll <- dyn.load('$work/host/$so')
  routines <- getDLLRegisteredRoutines(dll)[['.Call']]
  stopifnot('wrap__readit_' %in% names(routines))
  cat('Debian 13 check: the library built here loads under', R.version.string, '\n')
" || { echo "Debian 13 check: FAILED: the library built here does not load there"; status=1; }

echo "Debian 13 check: R CMD check --as-cran of $name, offline (a few minutes)"
in_chroot offline sh -c "cd $work && CARGO_NET_OFFLINE=true _R_CHECK_CRAN_INCOMING_REMOTE_=false \
  _R_CHECK_CRAN_INCOMING_=false R CMD check --as-cran --no-manual $name" > "$top/out/trixie-check.log" 2>&1 || true
check_dir="$root$work/rwbridge.Rcheck"
log="$check_dir/00check.log"
if [ ! -f "$log" ]; then
  tail -n 30 "$top/out/trixie-check.log"
  echo "Debian 13 check: FAILED: R CMD check wrote no log"
  exit 1
fi
built="$check_dir/rwbridge/libs/$so"
[ -f "$built" ] && echo "Debian 13 check: GNU_STACK of the library built there: $(stack_flags "$built")"
grep -E "(WARNING|ERROR|NOTE)$" "$log" || true
rm -rf "$top/out/trixie-check"
cp -R "$check_dir" "$top/out/trixie-check"
line="$(grep '^Status:' "$log" || echo 'Status: (none)')"
echo "Debian 13 check: R CMD check $line (full log: out/trixie-check/00check.log)"
if echo "$line" | grep -qE "ERROR|WARNING|none"; then
  for f in "$check_dir"/00install.out "$check_dir"/tests/testthat.Rout.fail; do
    [ -f "$f" ] && tail -n 40 "$f"
  done
  status=1
fi
exit $status
