#!/usr/bin/env python3
"""Deterministic benchmark datasets for bench/run.

    gen_dataset.py generate KIND DIR --files N [--seed S]
    gen_dataset.py mutate   KIND DIR --files N [--seed S]

KIND is one of:
  xray     N files of 120-180 kB in 12 folders, plus labels.csv (path,label per file)
  tiny     N files of 1-8 kB, two folder levels, about 100 files per leaf folder
  million  N files of 1-8 kB, three folder levels, about 100 files per leaf folder

File content is incompressible pseudo-random bytes from random.Random(seed), so the same
arguments always produce byte-identical trees. `mutate` must be given the same KIND, --files
and --seed as `generate`; it rewrites 1% of the files with new content (and a new size),
adds 1% new files and deletes 0.5% (at least one of each), and for xray rewrites labels.csv to
match. Both commands print one line of KEY=VALUE pairs for bench/run to read.
"""

import argparse
import os
import random
import sys
from dataclasses import dataclass

XRAY_FOLDERS = 12
XRAY_CLASSES = ("normal", "pneumonia", "effusion", "nodule", "cardiomegaly", "atelectasis")
FILES_PER_LEAF = 100


@dataclass(frozen=True)
class Layout:
    min_size: int
    max_size: int
    depth: int  # folder levels above each file; xray uses a fixed set of folders instead


LAYOUTS = {
    "xray": Layout(min_size=120_000, max_size=180_000, depth=1),
    "tiny": Layout(min_size=1024, max_size=8192, depth=2),
    "million": Layout(min_size=1024, max_size=8192, depth=3),
}


def fanout(leaves, depth):
    """Smallest per-level fan-out whose `depth` levels hold at least `leaves` leaf folders."""
    f = 1
    while f**depth < leaves:
        f += 1
    return f


class Dataset:
    def __init__(self, kind, root, files, seed):
        self.kind = kind
        self.layout = LAYOUTS[kind]
        self.root = root
        self.files = files
        self.seed = seed
        if kind == "xray":
            self.leaves = XRAY_FOLDERS
        else:
            self.leaves = max(1, -(-files // FILES_PER_LEAF))
        self.fanout = fanout(self.leaves, self.layout.depth)

    def leaf_dir(self, leaf):
        if self.kind == "xray":
            return f"site_{leaf:02d}"
        parts = []
        for _ in range(self.layout.depth):
            leaf, digit = divmod(leaf, self.fanout)
            parts.append(f"d{digit:02d}")
        return "/".join(reversed(parts))

    def file_name(self, index, leaf):
        if self.kind == "xray":
            return f"{self.leaf_dir(leaf)}/img_{index:07d}.dcm"
        return f"{self.leaf_dir(leaf)}/f{index:07d}.bin"

    def original_path(self, index):
        leaf = index % XRAY_FOLDERS if self.kind == "xray" else index // FILES_PER_LEAF
        return self.file_name(index, leaf)

    def write(self, rel, data):
        with open(os.path.join(self.root, rel), "wb") as f:
            f.write(data)

    def random_content(self, rng):
        return rng.randbytes(rng.randint(self.layout.min_size, self.layout.max_size))


def write_labels(ds, labels):
    lines = ["path,label\n"] + [f"{p},{labels[p]}\n" for p in sorted(labels)]
    data = "".join(lines).encode()
    ds.write("labels.csv", data)
    return len(data)


def read_labels(ds):
    with open(os.path.join(ds.root, "labels.csv"), encoding="utf-8") as f:
        rows = f.read().splitlines()[1:]
    return dict(row.rsplit(",", 1) for row in rows)


def generate(ds):
    if os.path.exists(ds.root) and os.listdir(ds.root):
        sys.exit(f"gen_dataset: {ds.root} exists and is not empty")
    rng = random.Random(ds.seed)
    total_bytes = 0
    labels = {}
    made = set()
    for i in range(ds.files):
        rel = ds.original_path(i)
        folder = os.path.dirname(rel)
        if folder not in made:
            os.makedirs(os.path.join(ds.root, folder), exist_ok=True)
            made.add(folder)
        data = ds.random_content(rng)
        ds.write(rel, data)
        total_bytes += len(data)
        if ds.kind == "xray":
            labels[rel] = rng.choice(XRAY_CLASSES)
    files = ds.files
    if ds.kind == "xray":
        total_bytes += write_labels(ds, labels)
        files += 1
    print(f"files={files} bytes={total_bytes}")


def mutate(ds):
    rng = random.Random(f"{ds.seed}:mutate")
    n = ds.files
    n_modify = max(1, round(n * 0.01))
    n_add = max(1, round(n * 0.01))
    n_delete = max(1, round(n * 0.005))
    picked = rng.sample(range(n), n_modify + n_delete)
    to_modify, to_delete = sorted(picked[:n_modify]), sorted(picked[n_modify:])

    changed_bytes = 0
    for i in to_modify:
        data = ds.random_content(rng)
        ds.write(ds.original_path(i), data)
        changed_bytes += len(data)
    for i in to_delete:
        os.remove(os.path.join(ds.root, ds.original_path(i)))
    added = []
    for j in range(n_add):
        rel = ds.file_name(n + j, rng.randrange(ds.leaves))
        data = ds.random_content(rng)
        ds.write(rel, data)
        changed_bytes += len(data)
        added.append(rel)

    changed_files = n_modify + n_add
    if ds.kind == "xray":
        labels = read_labels(ds)
        for i in to_delete:
            del labels[ds.original_path(i)]
        for rel in added:
            labels[rel] = rng.choice(XRAY_CLASSES)
        changed_bytes += write_labels(ds, labels)
        changed_files += 1
    print(
        f"modified={n_modify} added={n_add} deleted={n_delete} "
        f"changed_files={changed_files} changed_bytes={changed_bytes}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("generate", "mutate"))
    parser.add_argument("kind", choices=sorted(LAYOUTS))
    parser.add_argument("dir")
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    if args.files < 1:
        parser.error("--files must be at least 1")
    ds = Dataset(args.kind, args.dir, args.files, args.seed)
    if args.action == "generate":
        generate(ds)
    else:
        mutate(ds)


if __name__ == "__main__":
    main()
