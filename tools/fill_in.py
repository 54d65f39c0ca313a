#!/usr/bin/env python3
"""The sparse allreduce's measured fill-in against the fill-in model.

    tools/fill_in.py RUN_DIR [RUN_DIR ...]

Reads each `gcsim train` run's fill-in.csv (rank 0's merges of
compression.exchange = "sparse-allreduce": after each, the sum of `ranks`
ranks' vectors has `nonzeros` entries) and prints a Markdown table, per run
and number of ranks summed: the measured mean support, the model's (every
rank's k of n entries independent and uniform, compress/fill_in.h:
n (1 - (1 - k/n)^ranks)), their ratio, and how often the vector went dense
(SparCML's switch), over the whole run and over its first and last tenth of
steps. A missing or malformed file is a one-line error and exit code 2.
"""
import argparse
import csv
import os
import sys

COLUMNS = ["global_step", "bucket", "n", "k", "ranks", "nonzeros", "dense"]


class InputError(Exception):
    pass


def support(n, k, ranks):
    return n * (1.0 - (1.0 - min(k, n) / n) ** ranks) if n > 0 else 0.0


def read(run_dir):
    path = os.path.join(run_dir, "fill-in.csv")
    try:
        f = open(path, newline="")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror} (a sparse-allreduce run writes it)")
    with f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise InputError(f"{path}: header is {reader.fieldnames}, expected {','.join(COLUMNS)}")
        rows = []
        for line, r in enumerate(reader, start=2):
            try:
                rows.append({c: int(r[c]) for c in COLUMNS})
            except (TypeError, ValueError):
                raise InputError(f"{path}:{line}: not a row of integers: {r}")
    if not rows:
        raise InputError(f"{path}: no merges recorded")
    return rows


def summarise(rows):
    """(ranks -> {measured, model, dense}) for rows, by the mean over rows."""
    out = {}
    for r in rows:
        s = out.setdefault(r["ranks"], {"measured": 0.0, "model": 0.0, "dense": 0, "count": 0})
        s["measured"] += r["nonzeros"]
        s["model"] += support(r["n"], r["k"], r["ranks"])
        s["dense"] += r["dense"]
        s["count"] += 1
    for s in out.values():
        for key in ("measured", "model"):
            s[key] /= s["count"]
    return out


def table(run_dirs):
    lines = ["| run | ranks summed | n | k | measured support | model | measured / model "
             "| first 10 % of steps | last 10 % | went dense |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for d in run_dirs:
        rows = read(d)
        last_step = max(r["global_step"] for r in rows)
        tenth = max(1, last_step // 10)
        whole = summarise(rows)
        first = summarise([r for r in rows if r["global_step"] <= tenth])
        last = summarise([r for r in rows if r["global_step"] > last_step - tenth])
        n = rows[0]["n"] if len({r["n"] for r in rows}) == 1 else "several"
        k = rows[0]["k"] if len({r["k"] for r in rows}) == 1 else "several"
        for ranks in sorted(whole):
            w = whole[ranks]
            ratio = lambda s: f"{s[ranks]['measured'] / s[ranks]['model']:.3f}" if ranks in s else "-"
            lines.append(f"| {os.path.basename(os.path.normpath(d))} | {ranks} | {n} | {k} | {w['measured']:.0f} "
                         f"| {w['model']:.0f} | {ratio(whole)} | {ratio(first)} | {ratio(last)} "
                         f"| {100.0 * w['dense'] / w['count']:.1f} % |")
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    a = ap.parse_args(argv)
    try:
        sys.stdout.write(table(a.runs))
    except InputError as e:
        print(f"fill_in: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
