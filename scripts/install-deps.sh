#!/usr/bin/env bash
# Installs what building and testing connmon needs, from Debian's packages.
# Runs apt-get through sudo when not root.
set -euo pipefail
PKGS=(build-essential cmake pkg-config tshark libwireshark-dev libglib2.0-dev
      libpcap-dev python3 python3-pytest python3-matplotlib util-linux iproute2
      libmicrohttpd-dev prometheus)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
