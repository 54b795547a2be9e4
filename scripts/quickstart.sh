#!/usr/bin/env bash
# Quick start on a fresh Debian 12: installs the dependencies, builds,
# installs the plugin (system plugin dir as root, since tshark run as root
# ignores personal plugins; the personal dir otherwise) and prints connmon
# fields for a bundled capture.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ "$(id -u)" -eq 0 ]; then
  scripts/build.sh -DCONNMON_INSTALL_SYSTEM=ON
else
  scripts/build.sh -DCONNMON_INSTALL_SYSTEM=OFF
fi
cmake --install "${CONNMON_BUILD_DIR:-build}" | grep -v "^-- Up-to-date" || true
CAPTURE=${1:-pcaps/real/ipv4_delay_loss.pcap}
echo "== connmon on $CAPTURE (first 25 packets with a round-trip sample)"
tshark -r "$CAPTURE" -Y "connmon.tsrtd || connmon.seqrtd" \
  -T fields -E header=y -e frame.number -e frame.time_relative \
  -e connmon.tsrtd -e connmon.seqrtd -e connmon.minrtd -e connmon.seqgap \
  -e connmon.flowbytes -e connmon.flow | head -26
