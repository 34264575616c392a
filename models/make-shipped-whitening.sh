#!/usr/bin/env bash
# Makes assets/whitening/vgg16-<pooling>-imagenette-train-whiten.safetensors, a whitening
# that ships with lookalike: a full PCA (512-d, power 0, eigenvalues kept, so each
# intent can take its own dimension and power) of the VGG16 descriptors (pooled by
# POOLING: rmac, the product's default, or spoc, the published method's) of
# imagenette/train-whiten (1,583 ImageNet training photos, disjoint from every set we
# evaluate on), described at the default max side (1,024) with the shared VGG16 weights.
# The file's metadata records the weights file's SHA-256, the digest of its tensors and
# the pooling: lookalike uses it only with those weights (the same tensors converted
# from Keras included) and that pooling, and learns from the library otherwise.
#
# Usage: [POOLING=rmac|spoc] models/make-shipped-whitening.sh [SHARED_DIR] [CACHE_DIR]
# (about 4 minutes on 2 cores the first time; the descriptors are cached.)
set -euo pipefail
cd "$(dirname "$0")/.."
pooling=${POOLING:-rmac}
shared=${1:-../shared}
cache=${2:-${TMPDIR:-/tmp}/lookalike-whitening-cache}
mkdir -p "$cache"
out=assets/whitening/vgg16-$pooling-imagenette-train-whiten.safetensors
# lookalike compiles the shipped files in (a placeholder must exist to build it the
# first time: a copy of the SPoC file will do) and never overwrites a file it did not
# write: learn into a new file, then put it in place.
new=$(mktemp -u "${TMPDIR:-/tmp}/whitening-XXXXXX.safetensors")
cargo run --locked --quiet -- whiten learn "$shared/data/imagenette/train-whiten" \
    --dim 512 --power 0 --max-side 1024 --backend cpu --pooling "$pooling" \
    --model "$shared/models/vgg16_imagenet_features.safetensors" \
    --cache "$cache" -o "$new"
mv -f "$new" "$out"
sha256sum "$out"
