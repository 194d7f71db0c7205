#!/usr/bin/env python3
"""Render the measurements of bench/run as markdown and judge them against Proxima's targets.

    report.py WORK_DIR --mode small|full [--strict] [--results-md FILE --title TITLE --preamble FILE]

Reads WORK_DIR/rows.tsv (one line per timed step: dataset, step, tool, seconds, peak RSS in KiB,
note, command) and WORK_DIR/metrics.tsv (dataset, key, value: dataset sizes, mutation sizes,
repository and store sizes), prints one table per dataset and the targets table on stdout and,
with --results-md, writes the same as a section of that file, replacing a section with the same
title. Exits 1 with --strict when a target is missed in full mode, else 0.
"""

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

DATASET_ORDER = ("xray", "tiny", "million")
# Throughput unit per dataset: large files are judged by bytes, small files by file count.
RATE_UNIT = {"xray": "MB/s", "tiny": "files/s", "million": "files/s"}
# Steps that process the whole dataset, and which version of it (before or after the mutation).
WHOLE_DATASET_STEPS = {
    "generate": "before",
    "dd_limit": "before",
    "copy": "before",
    "copy_late": "after",
    "first": "before",
    "clone": "before",
    "restore": "after",
}
STEP_LABELS = {
    "generate": "generate dataset",
    "mutate": "apply mutation",
    "dd_limit": "disk-write limit",
    "copy": "copy",
    "copy_late": "copy, right before the clone",
    "init": "init",
    "first": "first sync",
    "status_noop": "status, no change",
    "sync_noop": "sync, no change",
    "status_pending": "status after mutation",
    "status_pending_scan": "status after mutation, full scan",
    "mutation": "sync after mutation",
    "clone": "clone first commit",
    "diff": "diff first..second commit",
}
RESTIC_LABELS = {
    "first": "first backup",
    "mutation": "incremental backup",
    "restore": "restore latest",
}


@dataclass
class Row:
    dataset: str
    step: str
    tool: str
    secs: float
    rss_kb: int
    note: str
    command: str

    @property
    def label(self):
        if self.tool == "restic" and self.step in RESTIC_LABELS:
            return RESTIC_LABELS[self.step]
        return STEP_LABELS.get(self.step, self.step)


class Results:
    def __init__(self, work_dir):
        self.rows = []
        with open(work_dir / "rows.tsv", newline="", encoding="utf-8") as f:
            for ds, step, tool, secs, rss_kb, note, command in csv.reader(f, delimiter="\t"):
                self.rows.append(Row(ds, step, tool, float(secs), int(rss_kb), note, command))
        self.metrics = {}
        metrics_file = work_dir / "metrics.tsv"
        if metrics_file.exists():
            with open(metrics_file, newline="", encoding="utf-8") as f:
                for ds, key, value in csv.reader(f, delimiter="\t"):
                    self.metrics[(ds, key)] = int(value)

    def datasets(self):
        present = {r.dataset for r in self.rows}
        return [d for d in DATASET_ORDER if d in present]

    def row(self, dataset, step, tool):
        for r in self.rows:
            if (r.dataset, r.step, r.tool) == (dataset, step, tool):
                return r
        return None

    def metric(self, dataset, key):
        return self.metrics.get((dataset, key))

    def size(self, dataset, version):
        """(bytes, files) of the dataset before or after the mutation."""
        b, f = self.metric(dataset, "bytes"), self.metric(dataset, "files")
        if version == "after":
            b += self.metric(dataset, "bytes_delta") or 0
            f += self.metric(dataset, "files_delta") or 0
        return b, f


def mb(n):
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def rate(res, r):
    version = WHOLE_DATASET_STEPS.get(r.step)
    if version is None or r.secs < 0.005:
        return "-"
    size_bytes, files = res.size(r.dataset, version)
    if r.step == "dd_limit" or RATE_UNIT[r.dataset] == "MB/s":
        return f"{size_bytes / 1e6 / r.secs:,.0f} MB/s"
    return f"{files / r.secs:,.0f} files/s"


def computed_notes(res, r):
    """Notes derived from the metrics: repository and store sizes, mutation ratios."""
    ds, notes = r.dataset, []
    data_bytes = res.metric(ds, "bytes")
    changed = res.metric(ds, "changed_bytes")
    for tool, prefix, what in (("restic", "restic_repo", "repo"), ("proxima", "proxima_store", "store")):
        if r.tool != tool:
            continue
        first = res.metric(ds, f"{prefix}_first")
        before, after = res.metric(ds, f"{prefix}_before_mutation"), res.metric(ds, f"{prefix}_after_mutation")
        if r.step == "first" and first is not None:
            notes.append(f"{what} {mb(first)} ({first / data_bytes:.2f}x data)")
        if r.step == "mutation" and before is not None and after is not None:
            notes.append(f"{what} +{mb(after - before)} ({(after - before) / changed:.2f}x changed bytes)")
    if r.tool == "proxima" and r.step == "mutation":
        first_sync = res.row(ds, "first", "proxima")
        if first_sync and first_sync.secs > 0:
            notes.insert(0, f"{100 * r.secs / first_sync.secs:.1f}% of first sync")
    return notes


def dataset_heading(res, ds):
    b, f = res.size(ds, "before")
    lines = [f"### {ds}: {f:,} files, {mb(b)}", ""]
    if res.metric(ds, "changed_bytes") is not None:
        m = lambda k: res.metric(ds, k)  # noqa: E731
        lines.append(
            f"Mutation: {m('modified'):,} files rewritten, {m('added'):,} added, {m('deleted'):,} deleted; "
            f"{mb(m('changed_bytes'))} of new content in {m('changed_files'):,} files."
        )
        lines.append("")
    return lines


def dataset_table(res, ds):
    lines = [
        "| step | tool | seconds | MB/s or files/s | peak RSS (MiB) | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in (r for r in res.rows if r.dataset == ds):
        notes = "; ".join([n for n in [r.note] if n] + computed_notes(res, r))
        lines.append(
            f"| {r.label} | {r.tool} | {r.secs:.2f} | {rate(res, r)} | {r.rss_kb / 1024:,.0f} | {notes} |"
        )
    return lines


# ---- targets -----------------------------------------------------------------------------------


@dataclass
class Verdict:
    dataset: str
    text: str
    measured: str = ""
    value: str = ""
    ok: bool | None = None  # None: not measured


def ratio_target(res, ds, text, num, den, limit, strict=False, per_byte=False):
    """proxima's time over another step's time must be <= limit (or < limit if strict)."""
    v = Verdict(ds, text)
    a, b = res.row(ds, *num), res.row(ds, *den)
    if a is None or b is None or b.secs <= 0:
        return v
    ratio = a.secs / b.secs
    if per_byte:  # compare seconds per byte when the two steps move different amounts of data
        ratio *= res.size(ds, WHOLE_DATASET_STEPS[den[0]])[0] / res.size(ds, WHOLE_DATASET_STEPS[num[0]])[0]
    v.measured = f"{a.tool} {a.secs:.2f} s vs {b.tool} {b.secs:.2f} s"
    v.value = f"{ratio:.2f} ({'<' if strict else '≤'} {limit:g})"
    v.ok = ratio < limit if strict else ratio <= limit
    return v


def seconds_target(res, ds, text, step, limit):
    v = Verdict(ds, text)
    r = res.row(ds, step, "proxima")
    if r is not None:
        v.measured = f"{r.secs:.2f} s"
        v.value = f"{r.secs:.2f} s (< {limit:g} s)"
        v.ok = r.secs < limit
    return v


def growth_target(res, ds, limit):
    v = Verdict(ds, "store growth by the mutation sync ≤ 1.1 × changed bytes")
    before = res.metric(ds, "proxima_store_before_mutation")
    after = res.metric(ds, "proxima_store_after_mutation")
    changed = res.metric(ds, "changed_bytes")
    if None not in (before, after, changed):
        ratio = (after - before) / changed
        v.measured = f"+{mb(after - before)} for {mb(changed)} changed"
        pb = res.metric(ds, "proxima_packs_before_mutation")
        pa = res.metric(ds, "proxima_packs_after_mutation")
        if None not in (pb, pa):
            # Content (packs) versus metadata (trees of every changed folder, index, commit).
            v.measured += f" (file content +{mb(pa - pb)}, trees/index/commit +{mb(after - before - (pa - pb))})"
        v.value = f"{ratio:.2f} (≤ {limit:g})"
        v.ok = ratio <= limit
    return v


def rss_target(res, ds, limit_mib):
    # The target is the sync's ("syncs in under 5 minutes with peak memory under
    # 512 MB"): every sync and status step. Other steps' peaks are in the table.
    v = Verdict(ds, f"peak RSS of every sync and status step < {limit_mib} MiB")
    sync_steps = {"first", "status_noop", "sync_noop", "status_pending", "status_pending_scan",
                  "mutation"}
    rows = [r for r in res.rows
            if r.dataset == ds and r.tool == "proxima" and r.step in sync_steps]
    if rows:
        top = max(rows, key=lambda r: r.rss_kb)
        peak = top.rss_kb / 1024
        v.measured = f"{peak:,.0f} MiB ({top.label})"
        v.value = f"{peak:,.0f} MiB (< {limit_mib} MiB)"
        v.ok = peak < limit_mib
    return v


def evaluate(res):
    px = lambda step: (step, "proxima")  # noqa: E731
    out = [
        ratio_target(res, "xray", "first sync ≤ 1.2 × disk-write limit (dd)", px("first"), ("dd_limit", "dd"), 1.2),
        ratio_target(res, "xray", "first sync no slower than restic backup", px("first"), ("first", "restic"), 1.0),
        ratio_target(res, "xray", "first sync no slower than cp -a", px("first"), ("copy", "cp -a"), 1.0),
        ratio_target(res, "tiny", "first sync ≥ 2x faster than restic backup", px("first"), ("first", "restic"), 0.5),
        ratio_target(res, "tiny", "first sync ≥ 2x faster than rclone copy", px("first"), ("copy", "rclone"), 0.5),
    ]
    for ds in ("xray", "tiny"):
        out += [
            ratio_target(res, ds, "sync after mutation ≤ 10% of first sync", px("mutation"), px("first"), 0.10),
            ratio_target(
                res, ds, "sync after mutation faster than restic incremental",
                px("mutation"), ("mutation", "restic"), 1.0, strict=True,
            ),
            growth_target(res, ds, 1.1),
        ]
    out += [
        seconds_target(res, "tiny", "status with no change < 1 s", "status_noop", 1.0),
        seconds_target(res, "tiny", "sync with no change < 1 s", "sync_noop", 1.0),
        ratio_target(res, "xray", "clone ≤ 1.2 × disk-write limit (dd)", px("clone"), ("dd_limit", "dd"), 1.2),
    ]
    for ds in ("xray", "tiny"):
        out += [
            ratio_target(
                res, ds, "clone no slower than restic restore (per byte)",
                px("clone"), ("restore", "restic"), 1.0, per_byte=True,
            ),
            ratio_target(res, ds, "clone no slower than cp -a (run right before it)", px("clone"),
                         ("copy_late", "cp -a"), 1.0),
        ]
    out += [
        seconds_target(res, "million", "first sync < 300 s", "first", 300),
        rss_target(res, "million", 512),
        seconds_target(res, "million", "diff of the two commits < 1 s", "diff", 1.0),
    ]
    datasets = res.datasets()
    return sorted((v for v in out if v.dataset in datasets), key=lambda v: datasets.index(v.dataset))


def targets_table(verdicts, judge):
    lines = [
        "| dataset | target | measured | ratio or value (limit) | result |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        if v.ok is None:
            result = "n/a (not measured)"
        elif not judge:
            result = "not judged (--small)"
        else:
            result = "PASS" if v.ok else "**MISS**"
        lines.append(f"| {v.dataset} | {v.text} | {v.measured or '-'} | {v.value or '-'} | {result} |")
    return lines


# ---- output ------------------------------------------------------------------------------------


def render(res, verdicts, judge):
    lines = []
    for ds in res.datasets():
        lines += dataset_heading(res, ds) + dataset_table(res, ds) + [""]
    lines += ["### Targets", ""]
    if not judge:
        lines += ["Targets are only meaningful at full size; --small shows the ratios without judging them.", ""]
    lines += targets_table(verdicts, judge)
    return lines


def commands_block(res):
    lines = ["<details><summary>Exact commands</summary>", "", "```sh"]
    current = None
    for r in res.rows:
        if r.dataset != current:
            current = r.dataset
            lines.append(f"# --- {current}")
        lines.append(r.command)
    return lines + ["```", "", "</details>"]


def write_section(path, title, body):
    """Replace the `## title` section of path (up to the next `## ` heading), or append it."""
    path = Path(path)
    heading = f"## {title}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Proxima benchmark results\n\nWritten by `bench/run --full`; newest sections last.\n"
    lines = text.rstrip("\n").split("\n")
    section = [heading, ""] + body
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = section + ([""] if end < len(lines) else [])
    else:
        lines += [""] + section
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--mode", choices=("small", "full"), required=True)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--results-md")
    parser.add_argument("--title")
    parser.add_argument("--preamble", type=Path)
    args = parser.parse_args()

    res = Results(args.work_dir)
    judge = args.mode == "full"
    verdicts = evaluate(res)
    body = render(res, verdicts, judge)
    print("\n".join(body))

    if args.results_md:
        preamble = args.preamble.read_text(encoding="utf-8").rstrip("\n").split("\n") if args.preamble else []
        write_section(args.results_md, args.title, preamble + [""] + body + [""] + commands_block(res))

    misses = [v for v in verdicts if judge and v.ok is False]
    if judge:
        print(f"\nTargets missed: {len(misses)} of {sum(v.ok is not None for v in verdicts)} measured.")
    return 1 if args.strict and misses else 0


if __name__ == "__main__":
    sys.exit(main())
