#!/usr/bin/env bash
# Fetch MicroPython from Debian's `micropython` source package of SUITE (trixie: the stable
# release; sid: the development one) into DEST.
#
# The archive address is read from this machine's own apt configuration (never written down
# here). apt runs with a private state directory under DEST's parent, so the system's apt
# configuration is left untouched and no root is needed.
#
# Only Debian's mip.patch is applied: it adds `mip` and `requests` to the stripped
# lib/micropython-lib. The rest of the Debian series (system mbedtls, packaging fixes) is for
# the Debian binary package and breaks the mpy-cross link, so it is skipped. Then the
# project's own patches (tools/setup/patches) are applied.
set -euo pipefail

dest=${1:?usage: fetch-micropython.sh DEST [SUITE]}
suite=${2:-trixie}

if [ -f "$dest/.microlearn-fetched" ]; then
  exit 0
fi

# First archive URI of the main Debian suite in the machine's apt sources (deb822 or one-line).
archive_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN{RS=""; FS="\n"}
         { uri=""; suites="";
           for (i=1;i<=NF;i++) { if ($i ~ /^URIs:/) { split($i,a," "); uri=a[2] }
                                  if ($i ~ /^Suites:/) suites=$i }
           if (uri ~ /\/debian\/?$/ && suites !~ /security/) { print uri; exit } }' "$f"
  done
  [ -f /etc/apt/sources.list ] && awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2}' /etc/apt/sources.list
  true
}
uri=$(archive_uri | head -n 1)
[ -n "$uri" ] || { echo "no Debian archive found in the apt configuration" >&2; exit 1; }

work=$(dirname "$dest")/debian-source-$suite
rm -rf "$work" "$dest"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/pkg"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" > "$work/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache"
          -o APT::Sandbox::User=root -o Debug::NoLocking=1)
echo "micropython: reading Debian $suite sources"
apt-get "${apt_opts[@]}" -qq update
echo "micropython: downloading the $suite source package"
(cd "$work/pkg" && apt-get "${apt_opts[@]}" -qq --download-only source micropython)
dsc=$(ls "$work"/pkg/micropython_*.dsc | head -n 1)
# apt checked the source index signature and the file hashes; the .dsc maintainer signature
# cannot be checked without the Debian keyring of maintainers, so its warning is not shown.
dpkg-source --skip-patches -x "$dsc" "$dest" >"$work/dpkg-source.log" 2>&1 || { cat "$work/dpkg-source.log" >&2; exit 1; }
patch -d "$dest" -p1 -s < "$dest/debian/patches/mip.patch"
# The project's own fixes to MicroPython's tools (each patch says why).
for p in "$(dirname "$0")"/patches/*.patch; do
  patch -d "$dest" -p1 -s < "$p" || { echo "micropython: $p does not apply to $suite" >&2; exit 1; }
done
basename "$dsc" .dsc | sed 's/^micropython_//' > "$dest/DEBIAN_VERSION"
touch "$dest/.microlearn-fetched"
echo "micropython: Debian source $(cat "$dest/DEBIAN_VERSION") unpacked in $dest"
