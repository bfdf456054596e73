#!/usr/bin/env bash
# Debian packages plate-edge needs outside its virtualenv: the Mosquitto broker (tests, demo), GStreamer's
# RTSP server with the system python's PyGObject (the stand-in cameras in the tests), Korean and Latin fonts
# (drawing Hangul, rendering synthetic plates; from fonts-woowa-bm on, only the built-many training
# typefaces use them), systemd (`systemd-analyze verify` on the unit file; it need not run), shellcheck
# (deploy/install.sh), make and python3-venv (the build itself).
# Installs only what is missing, so it is quick when everything is there. Used by `make sysdeps` and .ci/run.
set -euo pipefail

PACKAGES=(
    make
    python3-venv
    mosquitto
    mosquitto-clients
    gstreamer1.0-rtsp
    gir1.2-gst-rtsp-server-1.0
    gir1.2-gst-plugins-base-1.0
    gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly
    gstreamer1.0-libav
    python3-gi
    gir1.2-gstreamer-1.0
    fonts-nanum
    fonts-nanum-extra
    fonts-noto-cjk
    fonts-unfonts-core
    fonts-baekmuk
    fonts-dejavu-core
    fonts-liberation
    fonts-roboto-unhinted
    fonts-woowa-bm
    fonts-unfonts-extra
    fonts-lexi-gulim
    fonts-naver-d2coding
    fonts-alee
    fonts-urw-base35
    fonts-open-sans
    fonts-b612
    fonts-league-spartan
    systemd
    shellcheck
    chromium
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "sysdeps: all ${#PACKAGES[@]} Debian packages are installed"
    exit 0
fi

echo "sysdeps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo -n)  # never prompt: CI has no stdin
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}"
