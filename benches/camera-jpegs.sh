#!/usr/bin/env bash
# Makes the camera-like test photos for benches/camera_jpeg.rs: large real photos from
# Debian's wallpaper packages (KDE Plasma's and UKUI's; downloaded with apt-get, not
# installed), which the bench crops to 3:2, resizes to 6000 x 4000 (24 MP) and saves as
# quality-92 JPEGs, as a camera would. Nothing is committed.
#   bash benches/camera-jpegs.sh [DIR]   (default: target/wallpapers)
set -euo pipefail
out="${1:-target/wallpapers}"
mkdir -p "$out/debs"
(cd "$out/debs" && apt-get download plasma-workspace-wallpapers ukui-wallpapers)
for deb in "$out"/debs/*.deb; do dpkg -x "$deb" "$out/extracted"; done
echo "now: LOOKALIKE_WALLPAPERS=$out/extracted cargo bench --profile dev --bench camera_jpeg"
