#!/usr/bin/env sh
# Installs the desktop entry and the icon for the current user, after
# `cargo install --path .` put `lookalike` on the PATH.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
install -Dm644 "$here/lookalike.desktop" "$data/applications/lookalike.desktop"
install -Dm644 "$here/../assets/icon.png" "$data/icons/hicolor/256x256/apps/lookalike.png"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
echo "installed: $data/applications/lookalike.desktop"
