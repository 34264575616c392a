#!/usr/bin/env bash
# Makes assets/whitening/vgg16-spoc-imagenette-train-whiten.safetensors, the whitening
# that ships with lookalike: a full PCA (512-d, power 0, eigenvalues kept, so each
# intent can take its own dimension and power) of the SPoC descriptors of
# imagenette/train-whiten (1,583 ImageNet training photos, disjoint from every set we
# evaluate on), described at the default max side (1,024) with the shared VGG16 weights.
# The file's metadata records the weights file's SHA-256 and the digest of its tensors:
# lookalike uses it only with those weights (the same tensors converted from Keras
# included), and learns from the library otherwise.
#
# Usage: models/make-shipped-whitening.sh [SHARED_DIR] [CACHE_DIR]
# (about 4 minutes on 2 cores the first time; the descriptors are cached.)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared}
cache=${2:-${TMPDIR:-/tmp}/lookalike-whitening-cache}
mkdir -p "$cache"
out=assets/whitening/vgg16-spoc-imagenette-train-whiten.safetensors
# Replacing the shipped file is refused (it is not ours to overwrite): write a new one.
rm -f "$out"
cargo run --locked --quiet -- whiten learn "$shared/data/imagenette/train-whiten" \
    --dim 512 --power 0 --max-side 1024 --backend cpu \
    --model "$shared/models/vgg16_imagenet_features.safetensors" \
    --cache "$cache" -o "$out"
sha256sum "$out"
