#!/usr/bin/env python3
"""Predicted against measured step time from `gcsim validate`'s results.csv.

    tools/plot_validation.py RESULTS.csv --out validation.png

One point per row: x the measured step (train on the emulated cluster), y
the DES's prediction, on log axes, with the y = x line and bands at +-10 %
and +-20 %. Colour: the topology (two-level with its workers per node);
marker: the method (dense, sparse, quantised, low-rank). The title gives the
median, p90 and max |error| over the rows. Exit 2 on a file that is not
validate's (one line naming it).
"""
import argparse
import csv
import math
import os
import sys


def fail(msg):
    print(f"plot_validation.py: {msg}", file=sys.stderr)
    sys.exit(2)


NEED = ("predicted_step_s", "measured_step_s", "step_error", "topology", "gpus_per_node", "method", "workers")


def read_rows(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    if not rows:
        fail(f"{path}: no rows")
    missing = [c for c in NEED if c not in rows[0]]
    if missing:
        fail(f"{path}: not gcsim validate's results.csv (no column {missing[0]})")
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            p, m, e = float(r["predicted_step_s"]), float(r["measured_step_s"]), float(r["step_error"])
        except ValueError:
            fail(f"{path}:{i}: predicted_step_s / measured_step_s / step_error are not numbers")
        if not (p > 0 and m > 0 and math.isfinite(e)):
            fail(f"{path}:{i}: step times must be positive")
        out.append((r, p, m, e))
    return out


def quantile(v, q):
    v = sorted(v)
    pos = q * (len(v) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def family(method):
    if method == "none":
        return "dense"
    if method in ("topk", "randomk", "threshold"):
        return "sparse"
    if method in ("powersgd",):
        return "low-rank"
    return "quantised"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rows = read_rows(a.results)
    if os.path.lexists(a.out) and not os.path.isfile(a.out):
        fail(f"--out {a.out}: exists and is not a regular file")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    errs = [abs(e) for _, _, _, e in rows]
    med, p90, mx = quantile(errs, 0.5), quantile(errs, 0.9), max(errs)
    fig, ax = plt.subplots(figsize=(7, 6))
    lo = min(min(p, m) for _, p, m, _ in rows) / 1.5
    hi = max(max(p, m) for _, p, m, _ in rows) * 1.5
    xs = [lo * (hi / lo) ** (i / 50) for i in range(51)]
    ax.plot(xs, xs, color="black", lw=1, label="y = x")
    for band, alpha in ((0.2, 0.08), (0.1, 0.15)):
        ax.fill_between(xs, [x * (1 - band) for x in xs], [x * (1 + band) for x in xs], color="tab:gray",
                        alpha=alpha, lw=0, label=f"+-{int(band * 100)} %")
    markers = {"dense": "o", "sparse": "^", "quantised": "s", "low-rank": "D"}
    colours = {}
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink"]
    seen = set()
    for r, p, m, _ in rows:
        topo = r["topology"] + (f" ({r['gpus_per_node']}/node)" if r["topology"] == "two-level" else "")
        if "cluster.oversubscription" in r and r["topology"] == "fat-tree":
            topo = f"fat-tree {r['cluster.oversubscription']}:1"
        colour = colours.setdefault(topo, palette[len(colours) % len(palette)])
        fam = family(r["method"])
        key = (topo, fam)
        label = f"{topo}, {fam}" if key not in seen else None
        seen.add(key)
        ax.scatter([m], [p], c=colour, marker=markers[fam], s=36, edgecolors="black", linewidths=0.4, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured step time (s), emulated cluster")
    ax.set_ylabel("predicted step time (s), gcsim DES")
    ax.set_title(f"{len(rows)} points: |error| median {100 * med:.1f} %, p90 {100 * p90:.1f} %, max {100 * mx:.1f} %",
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, which="both", alpha=0.3)
    tmp = a.out + ".tmp.png"
    fig.tight_layout()
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
