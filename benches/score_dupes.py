#!/usr/bin/env python3
"""Scores `lookalike dupes --json` against the truth in the file names.

Usage: lookalike dupes --index I.lkidx --json | python3 benches/score_dupes.py FOLDER

Truth: neardup-dev's `oNNN*` files are one original and its edits; the report set's
`photo-NAME.*` files (benches/picture-sets.sh) one photo in several formats; any other
file has no copy. FOLDER (the indexed folder) gives the number of true copies.

- move precision / recall: what "all but the keeper" would move (every file of a group
  but its keeper): how many are true copies of their keeper, and how many of all true
  copies (every member of a true group but one) it moves;
- pairwise precision / recall over the groups (keeper and copies together).
Works for the JSON of every version (groups of `files` with a `keeper`).
"""
import collections
import itertools
import json
import os
import re
import sys


def label(path):
    name = path.rsplit("/", 1)[-1]
    match = re.match(r"(o\d{3})", name) or re.match(r"(photo-[^.]+)\.", name)
    return match.group(1) if match else None


found = json.load(sys.stdin)
folder = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/neardup-dev/jpg"
sizes = collections.Counter(
    label(f) for _, _, files in os.walk(folder) for f in files if label(f)
)
true_copies = sum(n - 1 for n in sizes.values())
true_pairs = sum(n * (n - 1) // 2 for n in sizes.values())

moved = wrong = tp = fp = 0
for group in found["groups"]:
    files = [f["path"] for f in group["files"]]
    keeper = group["keeper"]
    for f in files:
        if f != keeper:
            moved += 1
            wrong += label(f) is None or label(f) != label(keeper)
    for a, b in itertools.combinations(files, 2):
        if label(a) is not None and label(a) == label(b):
            tp += 1
        else:
            fp += 1
ratio = lambda a, b: a / b if b else 1.0
print(
    f"{len(found['groups'])} groups, {moved} proposed ({wrong} not copies of their keeper): "
    f"move precision {ratio(moved - wrong, moved):.4f}, "
    f"recall {ratio(moved - wrong, true_copies):.4f}; "
    f"pairwise precision {ratio(tp, tp + fp):.4f}, recall {ratio(tp, true_pairs):.4f}"
)
