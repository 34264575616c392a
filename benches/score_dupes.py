#!/usr/bin/env python3
"""Pairwise precision and recall of `lookalike dupes --json` on neardup-dev.

Usage: lookalike dupes --index NEARDUP.lkidx --json | python3 benches/score_dupes.py

Truth: every file named `oNNN*` belongs to group NNN (100 originals x 9 versions:
3,600 true pairs); `d_*` distractors belong to none. A pair in one found group is a
true positive when both files share NNN, otherwise a false positive.
"""
import itertools
import json
import re
import sys

TRUE_PAIRS = 100 * 9 * 8 // 2


def group_of(path):
    match = re.match(r"o(\d+)", path.rsplit("/", 1)[-1])
    return match.group(1) if match else None


found = json.load(sys.stdin)
tp = fp = 0
for group in found["groups"]:
    files = [f["path"] for f in group["files"]]
    for a, b in itertools.combinations(files, 2):
        if group_of(a) is not None and group_of(a) == group_of(b):
            tp += 1
        else:
            fp += 1
precision = tp / max(tp + fp, 1)
recall = tp / TRUE_PAIRS
f1 = 2 * precision * recall / max(precision + recall, 1e-9)
print(
    f"threshold {found['threshold']:.2f}: {len(found['groups'])} groups, "
    f"precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}"
)
