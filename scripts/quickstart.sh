#!/usr/bin/env bash
# Quick start on Debian 12, 13 or unstable (Wireshark 4.0, 4.4 or 4.6):
# installs the dependencies, builds against the installed Wireshark,
# installs the plugin (into that Wireshark's system plugin dir as root,
# since tshark run as root ignores personal plugins; into the personal
# dir ~/.local/lib/wireshark/plugins/<major.minor>/epan otherwise), the
# command line (/usr/local/bin as root, ~/.local/bin otherwise), and prints
# connmon fields for a bundled capture.  Exits 0 when connmon worked.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD=${CONNMON_BUILD_DIR:-build}
if [ "$(id -u)" -eq 0 ]; then
  scripts/build.sh -DCONNMON_INSTALL_SYSTEM=ON
  install_log=$(cmake --install "$BUILD")             # command line: /usr/local/bin
else
  scripts/build.sh -DCONNMON_INSTALL_SYSTEM=OFF
  install_log=$(cmake --install "$BUILD" --prefix "$HOME/.local")  # ~/.local/bin
fi
grep -v "^-- Up-to-date" <<<"$install_log" || true
CAPTURE=${1:-pcaps/real/ipv4_delay_loss.pcap}
echo "== connmon on $CAPTURE (first 25 packets with a round-trip sample)"
# All of tshark's output is read before printing the first lines: piping it
# into head would kill tshark with SIGPIPE, a failure under pipefail.
out=$(tshark -r "$CAPTURE" -Y "connmon.tsrtd || connmon.seqrtd" \
  -T fields -E header=y -e frame.number -e frame.time_relative \
  -e connmon.tsrtd -e connmon.seqrtd -e connmon.minrtd -e connmon.seqgap \
  -e connmon.flowbytes -e connmon.flow)
if [ "$(printf '%s\n' "$out" | wc -l)" -lt 2 ]; then
  echo "quickstart: tshark printed no connmon values: is the plugin loaded?" >&2
  echo "  (check: tshark -G plugins | grep connmon)" >&2
  exit 1
fi
head -n 26 <<<"$out"
