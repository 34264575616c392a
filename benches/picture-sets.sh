#!/usr/bin/env bash
# Builds the real-picture sets the duplicate finder is checked on, from Debian's
# wallpaper and artwork packages (never used to choose a parameter: README, "Duplicates"):
#
#   OUT/distinct/  one picture per artwork or photo, no two copies of each other: graphic
#                  art, gradients and low-poly art, paper textures (studio-backdrop-like),
#                  skies and landscapes, screenshots of this app, scikit-image's test
#                  photos and textures (a stereo pair among them: one scene from two
#                  viewpoints, not a copy). Any group found is wrong.
#   OUT/report/    the user report of issue 23 rebuilt: 12 high-resolution wallpaper
#                  artworks as shipped, and 12 photos each saved as JPEG, HEIC and AVIF
#                  (the only true copies: 12 triples).
#
# Usage: bash benches/picture-sets.sh [OUT]   (default target/picture-sets; needs root for
# apt-get, or the tools below already installed). Every picture is resized to at most
# 1,600 px on its longer side as JPEG quality 90, like ../shared/data/distinct-dev, except
# the report's artworks, kept at their own size and format.
set -euo pipefail
out="${1:-target/picture-sets}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
repo="$(cd "$(dirname "$0")/.." && pwd)"

need=()
command -v magick >/dev/null || command -v compare >/dev/null || need+=(imagemagick)
command -v rsvg-convert >/dev/null || need+=(librsvg2-bin)
command -v heif-enc >/dev/null || need+=(libheif-examples)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
# ImageMagick 6 names it convert; a wrapper earlier on PATH may stand in for it.
im=/usr/bin/convert
[ -x /usr/bin/magick ] && im=/usr/bin/magick

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
packages=(plasma-workspace-wallpapers gnome-backgrounds mate-backgrounds ukui-wallpapers
  mypaint-data-extras lomiri-wallpapers desktop-base sway-backgrounds python3-skimage)
(cd "$work" && apt-get download "${packages[@]}" >/dev/null 2>&1)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
r="$work/root/usr/share"
# desktop-base also installs its themes as Plasma wallpapers: the Plasma ones alone.
mkdir -p "$work/plasma"
dpkg-deb -x "$work"/plasma-workspace-wallpapers_*.deb "$work/plasma"

rm -rf "$out/distinct" "$out/report"
mkdir -p "$out/distinct" "$out/report"

# put SOURCE NAME [DIR]: SOURCE as NAME.jpg, at most 1,600 px, quality 90 (transparent
# parts over slate grey).
put() {
  local src="$1" name="$2" dir="${3:-$out/distinct}"
  if [[ "$src" == *.svg ]]; then
    rsvg-convert -w 1600 "$src" -o "$work/svg.png"
    src="$work/svg.png"
  fi
  "$im" "$src[0]" -background '#4a5a6a' -flatten -resize '1600x1600>' -quality 90 "$dir/$name.jpg"
}

# The largest image of a Plasma wallpaper package (one resolution per artwork).
largest() { ls -S "$1"/contents/images/* | head -1; }

# Plasma: every wallpaper once.
for wp in "$work"/plasma/usr/share/wallpapers/*/; do
  name="$(basename "$wp")"
  put "$(largest "$wp")" "plasma-$name"
done
# GNOME: each artwork once (its light version; the dark one is the same drawing), but
# the 256 px tile of one colour (vnc) that is no picture.
for f in "$r"/backgrounds/gnome/*-l.*; do
  base="$(basename "$f")"
  [ "$base" = vnc-l.webp ] && continue
  put "$f" "gnome-${base%-l.*}"
done
put "$r/backgrounds/gnome/oceans.svg" gnome-oceans
# MATE: photos of nature, abstract and desktop art (one of each family of recolourings;
# not the abstract folder's transparent overlays, which are no pictures on their own: a
# few faint strokes at one edge, drawn over whatever colour the desktop has).
for f in "$r"/backgrounds/mate/nature/*.jpg; do put "$f" "mate-$(basename "${f%.*}")"; done
put "$r/backgrounds/mate/abstract/Elephants.jpg" mate-Elephants
for name in Stripes Float-into-MATE Ubuntu-Mate-Warm-no-logo; do
  put "$r/backgrounds/mate/desktop/$name.png" "mate-$name"
done
put "$r/backgrounds/mate/desktop/GreenTraditional.jpg" mate-GreenTraditional
# UKUI: graphic and photographic wallpapers.
for f in "$r"/backgrounds/*.jpg "$r"/backgrounds/*.png; do
  [ -L "$f" ] && continue # lomiri-default-background is a link to warty-final-ubuntu
  case "$(basename "$f")" in
  lomiri-* | warty-*) put "$f" "lomiri-$(basename "${f%.*}")" ;;
  *) put "$f" "ukui-$(basename "${f%.*}")" ;;
  esac
done
# MyPaint: paper and canvas textures (the studio-backdrop case: smooth, alike), one of
# each family: MyPaint ships some scans again recoloured, turned or rescaled, which are
# copies (grey levels correlated over the whole picture: SketchPaper-02 with SketchPaper
# 0.87, mamurk_a_2 with mamurk_a_1 0.94, mamurk_b_1 with mamurk_a_1 mirrored and turned
# 0.80, mamurk_e_2 with mamurk_e_1 at its size 0.84; distinct textures: about 0).
for f in "$r"/mypaint/backgrounds/*/*.png; do
  name="$(basename "${f%.*}")"
  case "$name" in "HR_SketchPaper 02" | mamurk_a_2 | mamurk_b_1 | mamurk_e_2) continue ;; esac
  put "$f" "mypaint-${name// /-}"
done
# Debian's desktop themes: each theme's wallpaper once (not its lock screen or the
# variants with a logo or ink splats, which are the same drawing).
for theme in "$r"/desktop-base/*-theme; do
  name="$(basename "$theme" -theme)"
  [ "$name" = joy-inksplat ] && continue
  svg="$theme/wallpaper/contents/images/1920x1080.svg"
  [ -f "$svg" ] && put "$svg" "debian-$name"
done
put "$r/backgrounds/sway/Sway_Wallpaper_Blue_1920x1080.png" sway-blue
# scikit-image's test pictures: photos (a stereo pair of one motorcycle, the left and the
# right eye's view), micrographs, the moon, a page of text, textures of brick, grass and
# gravel.
for name in astronaut brick camera cell chelsea clock_motion coffee coins grass gravel \
  hubble_deep_field ihc moon motorcycle_left motorcycle_right page retina rocket; do
  f="$(ls "$work"/root/usr/lib/python3/dist-packages/skimage/data/"$name".* | head -1)"
  put "$f" "skimage-$name"
done
# Screenshots: this app's own windows, as its UI tests drew them.
for f in "$repo"/tests/snapshots/*.png; do
  case "$f" in *.diff.png | *.old.png | *.new.png) continue ;; esac
  put "$f" "screenshot-$(basename "${f%.*}")"
done

# The report: 12 artworks at full size, then 12 photos as JPEG, HEIC and AVIF.
for name in Altai IceCold Kay Opal Patak Canopee Cascade Honeywave Kokkini Cluster MilkyWay Shell; do
  f="$(largest "$r/wallpapers/$name")"
  cp "$f" "$out/report/art-$name.${f##*.}"
done
for f in "$r"/backgrounds/mate/nature/*.jpg; do
  name="photo-$(basename "${f%.*}")"
  put "$f" "$name" "$out/report"
  heif-enc -q 80 -o "$out/report/$name.heic" "$out/report/$name.jpg" >/dev/null
  heif-enc -A -q 80 -o "$out/report/$name.avif" "$out/report/$name.jpg" >/dev/null
done

echo "$(ls "$out/distinct" | wc -l) distinct pictures in $out/distinct"
echo "$(ls "$out/report" | wc -l) pictures in $out/report"
