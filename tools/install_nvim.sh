#!/usr/bin/env bash
# install_nvim.sh: install Neovim 0.10 into a private prefix, with no system-wide changes.
#
# Copied unchanged (apart from this note) from the Tandem workplace's shared/tools/install_nvim.sh so
# that CI on a clean checkout can install the Neovim the editor tests drive (.ci/run calls it with
# DEST=.cache/nvim; tests/e2e/test_nvim.py looks there).
#
# Usage:  tools/install_nvim.sh [--debs DIR] [--force] DEST
#         tools/install_nvim.sh --help
#
# What it does (Debian bookworm / glibc 2.36 hosts, x86_64; bookworm's own neovim is 0.7):
#   1. Creates a private apt configuration under DEST/apt/ (its own sources.list for Debian
#      "trixie", its own package lists and cache). The system's apt state, dpkg database and
#      /etc are only read, never written.
#   2. Runs `apt-get update` and `apt-get download` with that private configuration to fetch
#      the neovim 0.10 .deb files plus the trixie runtime libraries it needs (including trixie's
#      libc6, because trixie's nvim needs glibc >= 2.38) into DEST/debs/.
#   3. Unpacks them with `dpkg -x` into DEST/root/ (nothing is installed into the system).
#   4. Writes DEST/bin/nvim, a wrapper that runs the unpacked nvim through trixie's own dynamic
#      loader with --library-path, and sets VIMRUNTIME. Programs that nvim spawns (an LSP
#      server, say) use the system's loader and libraries, because LD_LIBRARY_PATH is not set.
#
# Options:
#   --debs DIR   use .deb files that are already in DIR (no network; copies them into DEST/debs).
#   --force      download and unpack again even when DEST/bin/nvim already works.
#
# Idempotent: a second run finds a working DEST/bin/nvim and exits in well under a second.
# The package lists are refreshed only when missing or older than a day.
#
# Caveat: nvim sees /proc/self/exe as the loader, so v:progpath is the loader's path. Anything
# that re-launches nvim via v:progpath will not work. Headless LSP probing does not do that.
#
# Exit status: 0 when DEST/bin/nvim --version reports 0.10.x; non-zero with a message otherwise.
set -euo pipefail

PKGS=(neovim neovim-runtime libluajit-5.1-2 libluajit-5.1-common libmsgpack-c2 libtree-sitter0.22
      libunibilium4 libuv1t64 libvterm0 lua-lpeg lua-luv libutf8proc3 libc6 libgcc-s1)

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "install_nvim.sh: error: $*" >&2; exit 1; }
log() { echo "install_nvim.sh: $*" >&2; }

DEBS_FROM="" FORCE=0 DEST=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --debs) [ $# -ge 2 ] || die "--debs needs a directory"; DEBS_FROM="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) [ -z "$DEST" ] || die "only one DEST may be given"; DEST="$1"; shift ;;
  esac
done
[ -n "$DEST" ] || { usage >&2; exit 2; }

[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported (this is $(uname -m))"
mkdir -p "$DEST"
DEST="$(cd "$DEST" && pwd)"
R="$DEST/root"
WRAPPER="$DEST/bin/nvim"

nvim_ok() {  # prints the version line when the wrapper works and is 0.10.x
  [ -x "$WRAPPER" ] || return 1
  local v
  v="$("$WRAPPER" --version 2>/dev/null | head -n1)" || return 1
  case "$v" in "NVIM v0.10."*) echo "$v"; return 0 ;; esac
  return 1
}

if [ "$FORCE" = 0 ] && v="$(nvim_ok)"; then
  log "already installed: $WRAPPER ($v)"
  echo "$WRAPPER"
  exit 0
fi

mkdir -p "$DEST/debs" "$DEST/bin"

have_all_debs() {
  local p
  for p in "${PKGS[@]}"; do
    compgen -G "$DEST/debs/${p}_*.deb" >/dev/null || return 1
  done
}

if [ -n "$DEBS_FROM" ]; then
  [ -d "$DEBS_FROM" ] || die "--debs: not a directory: $DEBS_FROM"
  for p in "${PKGS[@]}"; do
    f="$(compgen -G "$DEBS_FROM/${p}_*.deb" | sort -V | tail -n1 || true)"
    [ -n "$f" ] || die "--debs: no ${p}_*.deb in $DEBS_FROM"
    cp -f "$f" "$DEST/debs/"
  done
elif [ "$FORCE" = 1 ] || ! have_all_debs; then
  command -v apt-get >/dev/null || die "apt-get not found (this recipe needs a Debian-based host)"
  A="$DEST/apt"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
  # Reuse the machine's own Debian mirror (its first URIs line), asking it for the trixie suite.
  mirror="$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1)"
  [ -n "$mirror" ] || mirror="$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)"
  [ -n "$mirror" ] || die "no Debian mirror found in the machine's apt sources"
  echo "deb $mirror trixie main" > "$A/sources.list"
  APT=(apt-get -q
       -oDir::Etc::SourceList="$A/sources.list" -oDir::Etc::SourceParts=/dev/null
       -oDir::Etc::Preferences=/dev/null -oDir::Etc::PreferencesParts=/dev/null
       -oDir::State::Lists="$A/lists" -oDir::Cache="$A/cache"
       -oDebug::NoLocking=1)
  [ "$(id -u)" = 0 ] && APT+=(-oAPT::Sandbox::User=root)   # avoid the _apt sandbox warning
  if [ "$FORCE" = 1 ] || [ -z "$(find "$A/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null)" ]; then
    log "apt-get update (private lists in $A/lists)"
    "${APT[@]}" update >&2 || die "apt-get update failed (no network or the archive key is missing)"
  fi
  log "apt-get download ${#PKGS[@]} packages into $DEST/debs"
  rm -f "$DEST/debs/"*.deb
  (cd "$DEST/debs" && "${APT[@]}" download "${PKGS[@]}" >&2) || die "apt-get download failed"
fi
have_all_debs || die "some .deb files are missing from $DEST/debs"

log "unpacking into $R"
rm -rf "$R.tmp"
mkdir -p "$R.tmp"
for d in "$DEST/debs/"*.deb; do dpkg -x "$d" "$R.tmp"; done
LOADER_REL=usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -e "$R.tmp/$LOADER_REL" ] || die "trixie loader missing after unpack ($LOADER_REL)"
[ -x "$R.tmp/usr/bin/nvim" ] || die "nvim binary missing after unpack"
rm -rf "$R"
mv "$R.tmp" "$R"

cat > "$WRAPPER.tmp" <<EOF
#!/bin/sh
# Generated by install_nvim.sh: runs Debian trixie's nvim 0.10 through trixie's own loader.
R='$R'
VIMRUNTIME="\$R/usr/share/nvim/runtime"
export VIMRUNTIME
exec "\$R/$LOADER_REL" --library-path "\$R/usr/lib/x86_64-linux-gnu:\$R/lib/x86_64-linux-gnu" "\$R/usr/bin/nvim" "\$@"
EOF
chmod +x "$WRAPPER.tmp"
mv "$WRAPPER.tmp" "$WRAPPER"

v="$(nvim_ok)" || die "installed, but '$WRAPPER --version' does not report NVIM v0.10.x"
log "installed: $WRAPPER ($v)"
echo "$WRAPPER"
