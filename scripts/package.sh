#!/usr/bin/env bash
# Builds a Debian package of connmon for the Wireshark installed here (the
# one pkg-config finds): the plugin in that Wireshark's system plugin
# directory, the command line in /usr/bin.  A plugin only loads into the
# Wireshark minor version it was built for, so the package depends on
# exactly that minor version (libwiresharkN (>= X.Y.0), libwiresharkN (<< X.Y+1~),
# the same for libwsutil).  Needs build-essential (dpkg-dev), cmake,
# libwireshark-dev, libpcap-dev; root is not needed.
#
#   scripts/package.sh [--build-dir DIR] [--out DIR]
#
# Builds from scratch in a temporary directory, unless --build-dir names a
# build directory to use (and keep).
# Writes OUT/connmon_<version>+ws<X.Y>_<arch>.deb (default OUT: the current
# directory) and prints its name on the last line.  Install it with
#   sudo apt-get install ./connmon_<version>+ws<X.Y>_<arch>.deb
set -euo pipefail
OUT=$PWD
cd "$(dirname "$0")/.."
BUILD=
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $OUT in /*) ;; *) OUT=$OLDPWD/$OUT ;; esac
mkdir -p "$OUT"

VERSION=$(sed -n 's/^project(connmon VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$VERSION" ] || { echo "package.sh: no project(connmon VERSION ...) in CMakeLists.txt" >&2; exit 1; }
WS_VERSION=$(pkg-config --modversion wireshark)
WS_MINOR=$(echo "$WS_VERSION" | cut -d. -f1,2)
WS_NEXT="${WS_MINOR%%.*}.$(( ${WS_MINOR#*.} + 1 ))"
PLUGIN_DIR=$(pkg-config --variable=plugindir wireshark)/epan
ARCH=$(dpkg --print-architecture)
PKG_VERSION="$VERSION+ws$WS_MINOR"
DEB="$OUT/connmon_${PKG_VERSION}_${ARCH}.deb"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
[ -n "$BUILD" ] || BUILD=$STAGE/build
echo "connmon $VERSION for Wireshark $WS_VERSION ($ARCH): plugin into $PLUGIN_DIR"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONNMON_SANITIZE=OFF \
  -DCONNMON_BUILD_PLUGIN=ON -DCONNMON_BUILD_CLI=ON -DCONNMON_INSTALL_SYSTEM=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target connmon connmon_cli >/dev/null

ROOTFS=$STAGE/root
install -D -m 0644 "$BUILD/plugins/$WS_MINOR/epan/connmon.so" "$ROOTFS$PLUGIN_DIR/connmon.so"
install -D -m 0755 "$BUILD/bin/connmon" "$ROOTFS/usr/bin/connmon"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "$ROOTFS$PLUGIN_DIR/connmon.so" "$ROOTFS/usr/bin/connmon"
DOC=$ROOTFS/usr/share/doc/connmon
install -d "$DOC"
cat > "$DOC/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: connmon

Files: *
License: GPL-2.0-or-later
 On Debian systems, the full text of the GNU General Public License
 version 2 can be found in /usr/share/common-licenses/GPL-2.
EOF
gzip -9n < README.md > "$DOC/README.md.gz"
chmod 0644 "$DOC"/*

# Shared-library dependencies, as dpkg-shlibdeps computes them; Wireshark's
# libraries then pinned to this minor version.
mkdir -p "$STAGE/src/debian"
printf 'Source: connmon\n\nPackage: connmon\nArchitecture: any\n' > "$STAGE/src/debian/control"
SHLIBS=$(cd "$STAGE/src" && dpkg-shlibdeps -O -e"$ROOTFS$PLUGIN_DIR/connmon.so" \
           -e"$ROOTFS/usr/bin/connmon" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
DEPENDS=$(echo "$SHLIBS" | tr ',' '\n' | sed 's/^ *//' | awk -v lo="$WS_MINOR.0" -v hi="$WS_NEXT~" '
  { name = $1 }
  name ~ /^lib(wireshark|wsutil)[0-9]+$/ {
    if (!(name in seen)) printf "%s%s (>= %s), %s (<< %s)", sep, name, lo, name, hi
    seen[name] = 1; sep = ", "; pinned = 1; next }
  { printf "%s%s", sep, $0; sep = ", " }
  END { if (!pinned) exit 1 }') ||
  { echo "package.sh: the plugin links no libwireshark (dependencies: $SHLIBS)" >&2; exit 1; }

install -d "$ROOTFS/DEBIAN"
cat > "$ROOTFS/DEBIAN/control" <<EOF
Package: connmon
Version: $PKG_VERSION
Architecture: $ARCH
Maintainer: ${CONNMON_MAINTAINER:-connmon maintainers <connmon@localhost>}
Installed-Size: $(du -sk --exclude=DEBIAN "$ROOTFS" | cut -f1)
Depends: $DEPENDS
Recommends: tshark | wireshark
Section: net
Priority: optional
Description: passive TCP round-trip delays and loss hints for Wireshark $WS_MINOR
 connmon puts per-packet round-trip delays (from TCP timestamps and from
 sequence/ACK pairs) and loss hints (holes before the capture point,
 segments seen twice, duplicate ACKs) on every TCP packet as Wireshark
 fields (connmon.tsrtd, connmon.seqrtd, ...), with a Statistics tree.
 .
 This package holds the plugin for Wireshark $WS_MINOR.x, in its system
 plugin directory (so it also loads when tshark runs as root), and the
 connmon command line, which reads live interfaces and capture files
 through libpcap.
EOF
dpkg-deb --root-owner-group -Zxz --build "$ROOTFS" "$DEB" >/dev/null
dpkg-deb --field "$DEB" Package Version Architecture Depends | sed 's/^/  /'
dpkg-deb --contents "$DEB" | awk '$NF !~ /\/$/ { print "  " $NF }'
echo "$DEB"
