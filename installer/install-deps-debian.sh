#!/usr/bin/env bash
# Install the system packages the kiosk and its tests need on Debian/Ubuntu:
# DCMTK and Orthanc (real DICOM peers for tests), Xvfb and the Qt xcb runtime,
# and a font with Japanese, Chinese and Korean glyphs (fonts-noto-cjk) for patient names.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PACKAGES=(
  dcmtk dicom3tools orthanc xvfb genisoimage openssl
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
  fonts-dejavu-core fonts-noto-cjk
)
if ! python3 -m venv --help >/dev/null 2>&1; then
  PACKAGES+=(python3-venv)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
