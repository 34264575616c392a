#!/usr/bin/env python3
"""Builds a near-duplicate set of large photos in neardup-dev's format, to measure what
the size photos are described at costs in quality (../shared's sets are 224 px, so the
longer side bound never touches them): small-box queries on big photos are where it
shows.

Usage: python3 benches/big-neardup.py SRC OUT   (needs Pillow: pip install pillow)

SRC: a folder of distinct large pictures (benches/picture-sets.sh's `distinct/`). The
first 20 pictures of at least 1,500 px (by name) are the originals `oNNN.jpg`; each gets
five edited copies: `_rot90` (turned clockwise), `_crop50` (the central half of its
area), `_scale50` (half size), `_jpeg15` (quality 15), `_color` (more saturated,
darker). Every other picture is a distractor `d_*.jpg`. Ground truth in OUT/gt-box4
(each query's box is a quarter of the photo's area: half its sides) and OUT/gt-box16
(a sixteenth: a quarter of its sides), both placed at random (seeded) inside the
central crop, so every copy shows it; `--query full` ignores the box.
"""
import os
import random
import sys

from PIL import Image, ImageEnhance

ORIGINALS = 20
MIN_SIDE = 1500


def main(src, out):
    names = sorted(n for n in os.listdir(src) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    pictures = [(n, Image.open(os.path.join(src, n)).convert("RGB")) for n in names]
    big = [(n, p) for n, p in pictures if max(p.size) >= MIN_SIDE][:ORIGINALS]
    jpg = os.path.join(out, "jpg")
    os.makedirs(jpg, exist_ok=True)
    rng = random.Random(2026)
    truth = {"box4": [], "box16": []}
    for i, (name, photo) in enumerate(big, start=1):
        q = f"o{i:03d}"
        w, h = photo.size
        cw, ch = int(w * 0.7071), int(h * 0.7071)
        cx, cy = (w - cw) // 2, (h - ch) // 2
        edits = {
            "": photo,
            "_rot90": photo.transpose(Image.Transpose.ROTATE_270),
            "_crop50": photo.crop((cx, cy, cx + cw, cy + ch)),
            "_scale50": photo.resize((w // 2, h // 2), Image.Resampling.LANCZOS),
            "_color": ImageEnhance.Brightness(ImageEnhance.Color(photo).enhance(1.5)).enhance(0.85),
        }
        for suffix, image in edits.items():
            image.save(os.path.join(jpg, f"{q}{suffix}.jpg"), quality=90)
        photo.save(os.path.join(jpg, f"{q}_jpeg15.jpg"), quality=15)
        for key, fraction in (("box4", 2), ("box16", 4)):
            bw, bh = w // fraction, h // fraction
            x1 = cx + rng.randrange(cw - bw)
            y1 = cy + rng.randrange(ch - bh)
            truth[key].append((q, (x1, y1, x1 + bw, y1 + bh)))
    originals = {n for n, _ in big}
    for name, photo in pictures:
        if name not in originals:
            stem = os.path.splitext(name)[0]
            photo.save(os.path.join(jpg, f"d_{stem}.jpg"), quality=90)
    copies = ["", "_rot90", "_crop50", "_scale50", "_jpeg15", "_color"]
    for key, queries in truth.items():
        gt = os.path.join(out, f"gt-{key}")
        os.makedirs(gt, exist_ok=True)
        for q, (x1, y1, x2, y2) in queries:
            with open(os.path.join(gt, f"{q}_query.txt"), "w") as f:
                f.write(f"{q} {x1} {y1} {x2} {y2}\n")
            with open(os.path.join(gt, f"{q}_good.txt"), "w") as f:
                f.write("".join(f"{q}{s}\n" for s in copies))
            for kind in ("ok", "junk"):
                open(os.path.join(gt, f"{q}_{kind}.txt"), "w").close()
    print(f"{len(big)} originals x {len(copies)}, {len(pictures) - len(big)} distractors in {jpg}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
